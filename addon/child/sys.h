// Async-signal-safe helpers for the child side of clone().
//
// Everything here is usable between clone() and execve() in a copy of a multi-threaded
// process: raw system calls and fixed-size stack buffers only. No malloc, no locks, no
// stdio, no exceptions, no C++ library types.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
#include <linux/mount.h>
#endif

namespace tsr {

// ---- strings (no libc string functions that might be ifunc'd into something odd) ----

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

inline bool str_starts(const char *s, const char *prefix) {
  while (*prefix) {
    if (*s++ != *prefix++) return false;
  }
  return true;
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

// Unsigned decimal into buf; returns buf.
inline char *fmt_u64(char *buf, size_t cap, uint64_t v) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && i < 23);
  size_t j = 0;
  while (i > 0 && j + 1 < cap) buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}

inline char *fmt_i64(char *buf, size_t cap, int64_t v) {
  if (v < 0 && cap > 1) {
    buf[0] = '-';
    fmt_u64(buf + 1, cap - 1, (uint64_t)(-(v + 1)) + 1);
    return buf;
  }
  return fmt_u64(buf, cap, (uint64_t)v);
}

// "/proc/self/fd/N" for mount(2) and friends that take paths.
struct FdPath {
  char buf[32];
  explicit FdPath(int fd) {
    str_copy(buf, sizeof buf, "/proc/self/fd/");
    char num[16];
    str_append(buf, sizeof buf, fmt_u64(num, sizeof num, (uint64_t)fd));
  }
  const char *c_str() const { return buf; }
};

// ---- raw system calls glibc 2.36 may not wrap ----

inline long sys_pidfd_open(int pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
inline long sys_pidfd_send_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
}
inline long sys_close_range(unsigned first, unsigned last, unsigned flags) {
  return syscall(SYS_close_range, first, last, flags);
}
inline int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
inline int sys_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}
inline int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr) {
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr);
}
inline int sys_open_tree(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}
inline int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags) {
  return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}
inline int sys_execveat(int fd, const char *path, const char *const *argv, const char *const *envp,
                        int flags) {
  return (int)syscall(SYS_execveat, fd, path, argv, envp, flags);
}
inline int sys_seccomp(unsigned op, unsigned flags, void *args) {
  return (int)syscall(SYS_seccomp, op, flags, args);
}
inline int sys_setns(int fd, int nstype) { return (int)syscall(SYS_setns, fd, nstype); }

// Credentials, as raw system calls. glibc's setresuid/setresgid/setgroups change every
// thread of the process (POSIX semantics): they take glibc's thread-list lock and signal
// the other threads. A child of multi-threaded Node has one thread but a copy of Node's
// glibc state, and that lock may have been held by another thread at clone() time: the
// glibc wrappers can deadlock there. The kernel calls change only the caller, which is
// all there is.
inline int sys_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
inline int sys_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
inline int sys_setgroups(size_t n, const gid_t *groups) { return (int)syscall(SYS_setgroups, n, groups); }
inline int sys_unshare(int flags) { return (int)syscall(SYS_unshare, flags); }

// Write all of buf, retrying on EINTR/short writes.
inline bool write_all(int fd, const void *buf, size_t len) {
  const char *p = (const char *)buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= (size_t)n;
  }
  return true;
}

// Write a short string to a file (procfs/sysfs knobs). Returns 0 or an errno.
inline int write_file_at(int dirfd, const char *path, const char *value, size_t len) {
  int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write_all(fd, value, len) ? 0 : errno;
  close(fd);
  return err;
}

}  // namespace tsr
