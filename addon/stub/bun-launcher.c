/*
 * bun-launcher: what `ts-runc` is on disk. It executes the Bun executable beside it (its own
 * real path with "-bun" appended: dist/ts-runc -> dist/ts-runc-bun) with the same argv and
 * the environment plus BUN_JSC_useJIT=0.
 *
 * Why: a command runs for milliseconds, and JavaScriptCore's JIT costs every one of them
 * more than it returns: its machinery and the code it compiles are ~2.2 MiB of peak RSS and
 * ~200 page faults per command (state 33.6 -> 31.5 MiB, create 39.6 -> 37.2; CPU 1-2 ms
 * less; docs/performance.md). Bun 1.4.5 reads JavaScriptCore options only from BUN_JSC_*
 * environment variables at start-up, and a compiled executable cannot carry one; this
 * exec costs ~0.3 ms and ~30 faults of that. A BUN_JSC_useJIT already set is kept (to
 * compare, or to turn the JIT back on).
 *
 * The project's build compiles it static (scripts/bun.mjs), so no dynamic loader runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SUFFIX[] = "-bun";

int main(int argc, char **argv) {
  (void)argc;
  char target[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", target, sizeof target - sizeof SUFFIX);
  if (n < 0 || (size_t)n >= sizeof target - sizeof SUFFIX) {
    fprintf(stderr, "ts-runc: cannot find its own executable (/proc/self/exe): %s\n", n < 0 ? strerror(errno) : "path too long");
    return 1;
  }
  memcpy(target + n, SUFFIX, sizeof SUFFIX);
  if (setenv("BUN_JSC_useJIT", "0", 0) != 0) {
    fprintf(stderr, "ts-runc: setenv: %s\n", strerror(errno));
    return 1;
  }
  execv(target, argv);
  fprintf(stderr, "ts-runc: cannot execute %s: %s\n", target, strerror(errno));
  return 1;
}
