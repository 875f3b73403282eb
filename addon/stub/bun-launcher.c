/*
 * bun-launcher: what `ts-runc` is on disk. It executes the Bun executable beside it (its own
 * real path with "-bun" appended: dist/ts-runc -> dist/ts-runc-bun) with the same argv and
 * the environment plus BUN_JSC_useJIT=0.
 *
 * Why: a command runs for milliseconds, and JavaScriptCore's JIT costs every one of them
 * more than it returns: its machinery and the code it compiles are ~2.2 MiB of peak RSS and
 * ~200 page faults per command (state 33.6 -> 31.5 MiB, create 39.6 -> 37.2; CPU 1-2 ms
 * less; docs/performance.md). Bun 1.4.5 reads JavaScriptCore options only from BUN_JSC_*
 * environment variables at start-up, and a compiled executable cannot carry one. A
 * BUN_JSC_useJIT already set is kept (to compare, or to turn the JIT back on).
 *
 * Freestanding, like tsrunc-init: no libc start-up runs before Bun's (a static glibc one
 * cost ~20 page faults and ~0.3 ms more per command); raw system calls only.
 */
#include "freestanding.h"

FREESTANDING_START(launcher_main);

#define AT_FDCWD (-100)
#define PATH_MAX 4096

static const char SUFFIX[] = "-bun";
static const char JIT_OFF[] = "BUN_JSC_useJIT=0";
static const char JIT_KEY[] = "BUN_JSC_useJIT=";

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static void say(const char *s) { sys4(SYS_write, 2, (long)s, (long)len(s), 0); }

static void fail(const char *what, const char *path, long err) {
  static const struct { long err; const char *name; } NAMES[] = {
      {2, "no such file or directory"}, {13, "permission denied"}, {8, "exec format error"}, {36, "file name too long"}};
  const char *name = "error";
  for (unsigned i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
    if (NAMES[i].err == err) name = NAMES[i].name;
  say("ts-runc: ");
  say(what);
  say(path);
  say(": ");
  say(name);
  say("\n");
  for (;;) sys4(SYS_exit_group, 1, 0, 0, 0);
}

__attribute__((used)) void launcher_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;

  char target[PATH_MAX];
  long n = sys4(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)target, (long)(sizeof target - sizeof SUFFIX));
  if (n < 0) fail("cannot find its own executable ", "/proc/self/exe", -n);
  if ((size_t)n >= sizeof target - sizeof SUFFIX) fail("cannot find its own executable ", "/proc/self/exe", 36);
  for (size_t i = 0; i < sizeof SUFFIX; i++) target[n + i] = SUFFIX[i];

  size_t count = 0;
  int set = 0;
  while (envp[count]) set |= starts_with(envp[count++], JIT_KEY);
  // The kernel bounds argv and envp together to a quarter of the stack limit: a second copy
  // of envp's pointers fits.
  char *env[count + 2];
  for (size_t i = 0; i < count; i++) env[i] = envp[i];
  env[count] = set ? 0 : (char *)JIT_OFF;
  env[count + 1] = 0;

  long err = -sys4(SYS_execve, (long)target, (long)argv, (long)env, 0);
  fail("cannot execute ", target, err);
}
