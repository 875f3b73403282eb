// The child program's system-call layer: every system call tsrunc-child makes goes through
// one of these functions, and nothing else in addon/child/ talks to the kernel.
//
// Each returns the kernel's result as is: >= 0 on success, -errno on failure (mmap: the
// address, or -errno). There is no errno and no retry hidden here; callers check every
// result (usually with check() from report.h, which reports the step and exits).
//
// Two implementations: sys_linux.cc (the real one: one raw syscall each, freestanding) and
// test/native/sys_record.cc (the test double: records each call with its arguments and
// answers from a scripted file system, so the order of the child's operations can be
// unit-tested without root or a kernel to spare, as youki's Syscall trait allows).
#pragma once

#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>

namespace tsr {

// Kernel ABI structures libc does not give us in this shape.
struct KSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
struct KRlimit {
  uint64_t cur, max;
};
// struct sched_attr (<linux/sched/types.h> clashes with <sched.h>).
struct KSchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
struct KCapHeader {
  uint32_t version;
  int pid;
};
struct KCapData {
  uint32_t effective, permitted, inheritable;
};

namespace sys {

// ---- descriptors and files ----
long read(int fd, void *buf, size_t len);
long write(int fd, const void *buf, size_t len);
long close(int fd);
long close_range(unsigned first, unsigned last, unsigned flags);
long fcntl(int fd, int cmd, long arg);
long dup3(int oldfd, int newfd, int flags);
long openat(int dirfd, const char *path, int flags, unsigned mode);
long openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
long mkdirat(int dirfd, const char *path, unsigned mode);
long mknodat(int dirfd, const char *path, unsigned mode, uint64_t dev);
long fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags);
long fchmodat(int dirfd, const char *path, unsigned mode);
long getdents64(int fd, void *buf, size_t len);
long unlinkat(int dirfd, const char *path, int flags);
long symlinkat(const char *target, int dirfd, const char *path);
long readlinkat(int dirfd, const char *path, char *buf, size_t cap);
long fstatat(int dirfd, const char *path, struct stat *st, int flags);
long fstatfs(int fd, struct statfs *st);
long faccessat(int dirfd, const char *path, int mode);
long ioctl(int fd, unsigned long request, unsigned long arg);
long mmap(void *addr, size_t len, int prot, int flags, int fd, long offset);

// ---- mounts and the root ----
long mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data);
long umount2(const char *target, int flags);
long pivot_root(const char *new_root, const char *put_old);
long chdir(const char *path);
long fchdir(int fd);
long chroot(const char *path);
long open_tree(int dirfd, const char *path, unsigned flags);
long move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to, unsigned flags);
long mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr);
long fsopen(const char *fsname, unsigned flags);
long fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux);
long fsmount(int fd, unsigned flags, unsigned attr_flags);

// ---- processes, namespaces, credentials ----
long setns(int fd, int nstype);
long unshare(int flags);
// fork()-like clone3: the child continues on a copy of the caller's stack.
long clone3(struct clone_args *args);
long prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d);
long getpid();
long getppid();
long setsid();
[[noreturn]] void exit_group(int status);
long pidfd_send_signal(int pidfd, int sig);
long setresuid(uint32_t r, uint32_t e, uint32_t s);
long setresgid(uint32_t r, uint32_t e, uint32_t s);
long setgroups(size_t count, const uint32_t *gids);
long capset(KCapHeader *header, const KCapData *data);
long sethostname(const char *name, size_t len);
long setdomainname(const char *name, size_t len);
long keyctl_join_session_keyring(const char *name);
long umask(unsigned mask);
long prlimit(int resource, const KRlimit *limit);
long personality(unsigned long persona);
long sched_setattr(const KSchedAttr *attr);
long sched_setaffinity(size_t len, const void *mask);
long set_mempolicy(int mode, const void *nodemask, unsigned long maxnode);
long ioprio_set(int which, int who, int ioprio);
long seccomp(unsigned op, unsigned flags, const void *args);
long rt_sigaction(int sig, const KSigaction *act);
long rt_sigprocmask_setmask(uint64_t mask);
// Waits until a signal arrives (ppoll with no descriptors: there is no pause(2) on arm64).
long pause();
long execveat(int dirfd, const char *path, const char *const *argv, const char *const *envp, int flags);
long execve(const char *path, const char *const *argv, const char *const *envp);

// ---- sockets ----
long socket(int domain, int type, int protocol);
long sendmsg(int fd, const struct msghdr *msg, int flags);
long recvmsg(int fd, struct msghdr *msg, int flags);

}  // namespace sys
}  // namespace tsr
