// The one instruction every system call of the child program comes down to.
//
// The child program (tsrunc-child) is freestanding: no libc, so no errno, no locks, no
// hidden state and no wrapper that quietly tries another call first. A system call returns
// the kernel's own result: >= 0 on success, -errno on failure. Only sys_linux.cc and
// start.cc include this; everything else calls the layer in sys.h.
#pragma once

#if defined(__x86_64__)
namespace tsr {
inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
}  // namespace tsr
#elif defined(__aarch64__)
namespace tsr {
inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
}  // namespace tsr
#else
#error "tsrunc-child: unsupported architecture"
#endif
