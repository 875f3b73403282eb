// Small helpers of the child program: bounded strings and numbers, without libc.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace tsr {

inline size_t str_len(const char *s) {
  size_t n = 0;
  while (s && s[n]) n++;
  return n;
}

inline bool str_eq(const char *a, const char *b) {
  if (!a || !b) return a == b;
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

// Bounded copy; always NUL-terminates. Returns false when truncated.
inline bool str_copy(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  if (cap == 0) return false;
  for (; src && src[i] && i + 1 < cap; i++) dst[i] = src[i];
  dst[i] = 0;
  return !src || src[i] == 0;
}

// Bounded append onto a NUL-terminated buffer.
inline bool str_append(char *dst, size_t cap, const char *src) {
  size_t n = str_len(dst);
  if (n >= cap) return false;
  return str_copy(dst + n, cap - n, src);
}

// Decimal text of v into buf (at least 24 bytes); returns buf.
inline char *fmt_i64(char *buf, int64_t v) {
  char tmp[24];
  int i = 0;
  uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
  do {
    tmp[i++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t j = 0;
  if (v < 0) buf[j++] = '-';
  while (i > 0) buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}

// A whole non-negative decimal int; -1 for anything else.
inline int parse_number(const char *s) {
  if (!s || !*s) return -1;
  long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
    if (v > 0x7fffffff) return -1;
  }
  return (int)v;
}

// "/proc/self/fd/N", for system calls that take paths.
struct FdPath {
  char buf[32];
  explicit FdPath(int fd) {
    char num[24];
    str_copy(buf, sizeof buf, "/proc/self/fd/");
    str_append(buf, sizeof buf, fmt_i64(num, fd));
  }
  const char *c_str() const { return buf; }
};

inline uint64_t make_dev(uint32_t major, uint32_t minor) {
  return ((uint64_t)(major & 0xfffff000u) << 32) | ((uint64_t)(major & 0xfffu) << 8) |
         ((uint64_t)(minor & 0xffffff00u) << 12) | (uint64_t)(minor & 0xffu);
}

}  // namespace tsr
