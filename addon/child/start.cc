// Process entry and the few routines the compiler may call on its own: tsrunc-child links
// no libc (see sys.h), so these are all the runtime support it has.
#include <stddef.h>

#include "sys.h"

namespace tsr {
extern "C" int child_main(int argc, char **argv);
}

extern "C" {

__attribute__((used)) void child_entry(long *sp) {
  int argc = (int)sp[0];
  char **argv = reinterpret_cast<char **>(sp + 1);
  tsr::sys::exit_group(tsr::child_main(argc, argv));
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call child_entry\n hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x0, sp\n and sp, x0, #-16\n bl child_entry\n brk #0\n");
#endif

// GCC emits calls to these for struct copies and initialisation even when freestanding.
// -fno-tree-loop-distribute-patterns keeps it from turning these very loops into calls.
void *memset(void *dst, int c, size_t n) {
  unsigned char *d = static_cast<unsigned char *>(dst);
  while (n--) *d++ = (unsigned char)c;
  return dst;
}
void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = static_cast<unsigned char *>(dst);
  const unsigned char *s = static_cast<const unsigned char *>(src);
  while (n--) *d++ = *s++;
  return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = static_cast<unsigned char *>(dst);
  const unsigned char *s = static_cast<const unsigned char *>(src);
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = static_cast<const unsigned char *>(a);
  const unsigned char *y = static_cast<const unsigned char *>(b);
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

}  // extern "C"
