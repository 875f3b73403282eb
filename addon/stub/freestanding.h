/*
 * What the freestanding programs (tsrunc-init, bun-launcher) share: system call numbers,
 * raw system calls and the entry point, for the architectures ts-runc builds on. No libc:
 * tsrunc-init runs in a root filesystem that may have none, and the launcher must not add a
 * libc start-up before Bun's.
 *
 * FREESTANDING_START(main) defines _start: clear the frame pointer, pass the initial stack
 * pointer (argc, argv..., envp...) to `main`, aligned as the ABI wants; `main` never returns.
 */
#ifndef TSRUNC_FREESTANDING_H
#define TSRUNC_FREESTANDING_H

typedef unsigned long size_t;


#if defined(__x86_64__)
#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define SYS_getpid 39
#define SYS_execve 59
#define SYS_exit_group 231
#define SYS_readlinkat 267
static inline long sys4(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}
#define FREESTANDING_START(main) \
  __asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call " #main "\n hlt\n")
#elif defined(__aarch64__)
#define SYS_close 57
#define SYS_read 63
#define SYS_write 64
#define SYS_readlinkat 78
#define SYS_exit_group 94
#define SYS_rt_sigaction 134
#define SYS_rt_sigreturn 139
#define SYS_getpid 172
#define SYS_execve 221
static inline long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#define FREESTANDING_START(main) \
  __asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x0, sp\n and sp, x0, #-16\n bl " #main "\n brk #0\n")
#else
#error "freestanding.h: unsupported architecture"
#endif

static inline long sys3(long n, long a, long b, long c) { return sys4(n, a, b, c, 0); }

#endif
