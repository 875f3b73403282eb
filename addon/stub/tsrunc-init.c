/*
 * tsrunc-init: the last hop before a container's program.
 *
 *   tsrunc-init FIFO_FD PATH ARGV0 [ARGS...]
 *
 * The child program (tsrunc-child) executes this tiny static binary from a sealed memfd once
 * the container is set up. If FIFO_FD >= 0 it blocks reading one byte from the exec fifo
 * (written by `start`), then it executes PATH with ARGV0... and the environment it was
 * given. Being a separate ~8 KiB program it keeps the created-but-not-started container
 * small, and since it runs from a sealed memfd, /proc/self/exe inside the container never
 * names a writable host binary. It ignores no signal and blocks none: the program starts
 * with every disposition at its default.
 *
 * Freestanding: no libc (the container's rootfs may have none), raw system calls only.
 */
#include "freestanding.h"

FREESTANDING_START(stub_main);
/* The signal-return trampoline rt_sigaction wants with SA_RESTORER (no libc to give one). */
#if defined(__x86_64__)
__asm__(".text\n.global stub_restorer\nstub_restorer:\n mov $15,%rax\n syscall\n hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global stub_restorer\nstub_restorer:\n mov x8, #139\n svc 0\n brk #0\n");
#endif

#define SA_RESTORER 0x04000000
#define EINTR 4
#define ENOENT 2

struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

void stub_restorer(void);

static void exit_now(int code) {
  for (;;) sys3(SYS_exit_group, code, 0, 0);
}

/* While waiting for `start` as PID 1 of its namespace, a termination signal ends the
 * container (as runc's init does); PID 1 would otherwise ignore signals it has no handler for.
 * Handlers do not survive execve, so the program starts with default dispositions. */
static void on_signal(int sig) { exit_now(128 + sig); }

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static void say(const char *s) { sys3(SYS_write, 2, (long)s, (long)len(s)); }

static int parse_int(const char *s) {
  int neg = 0, v = 0;
  if (*s == '-') neg = 1, s++;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return neg ? -v : v;
}

static void utoa(unsigned v, char *out) {
  char tmp[12];
  int i = 0;
  do tmp[i++] = (char)('0' + v % 10), v /= 10; while (v);
  while (i) *out++ = tmp[--i];
  *out = 0;
}

__attribute__((used)) void stub_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4) {
    say("tsrunc-init: usage: tsrunc-init FIFO_FD PATH ARGV0 [ARGS...]\n");
    exit_now(125);
  }
  int fifo = parse_int(argv[1]);
  if (fifo >= 0 && sys3(SYS_getpid, 0, 0, 0) == 1) {
    static const int sigs[] = {1, 2, 3, 10, 12, 13, 14, 15};
    struct kernel_sigaction sa = {on_signal, SA_RESTORER, stub_restorer, 0};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      sys4(SYS_rt_sigaction, sigs[i], (long)&sa, 0, sizeof sa.mask);
  }
  if (fifo >= 0) {
    char c;
    long n;
    do n = sys3(SYS_read, fifo, (long)&c, 1); while (n == -EINTR);
    if (n != 1) exit_now(125);
    sys3(SYS_close, fifo, 0, 0);
  }
  long err = -sys3(SYS_execve, (long)argv[2], (long)(argv + 3), (long)envp);
  char num[12];
  utoa((unsigned)err, num);
  say("tsrunc-init: exec ");
  say(argv[2]);
  say(": errno ");
  say(num);
  say("\n");
  exit_now(err == ENOENT ? 127 : 126);
}
