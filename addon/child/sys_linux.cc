// The real system-call layer of tsrunc-child (see sys.h): one raw syscall each.
#include "sys.h"

#include <linux/keyctl.h>
#include <signal.h>
#include <sys/syscall.h>

#include "raw_syscall.h"

namespace tsr {
namespace sys {

namespace {
template <typename A = long, typename B = long, typename C = long, typename D = long, typename E = long,
          typename F = long>
inline long call(long nr, A a = 0, B b = 0, C c = 0, D d = 0, E e = 0, F f = 0) {
  return raw_syscall6(nr, (long)a, (long)b, (long)c, (long)d, (long)e, (long)f);
}
}  // namespace

long read(int fd, void *buf, size_t len) { return call(SYS_read, fd, buf, len); }
long write(int fd, const void *buf, size_t len) { return call(SYS_write, fd, buf, len); }
long close(int fd) { return call(SYS_close, fd); }
long close_range(unsigned first, unsigned last, unsigned flags) { return call(SYS_close_range, first, last, flags); }
long fcntl(int fd, int cmd, long arg) { return call(SYS_fcntl, fd, cmd, arg); }
long dup3(int oldfd, int newfd, int flags) { return call(SYS_dup3, oldfd, newfd, flags); }
long openat(int dirfd, const char *path, int flags, unsigned mode) { return call(SYS_openat, dirfd, path, flags, mode); }
long openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return call(SYS_openat2, dirfd, path, &how, sizeof how);
}
long mkdirat(int dirfd, const char *path, unsigned mode) { return call(SYS_mkdirat, dirfd, path, mode); }
long mknodat(int dirfd, const char *path, unsigned mode, uint64_t dev) { return call(SYS_mknodat, dirfd, path, mode, dev); }
long fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags) {
  return call(SYS_fchownat, dirfd, path, uid, gid, flags);
}
long fchmodat(int dirfd, const char *path, unsigned mode) { return call(SYS_fchmodat, dirfd, path, mode); }
long getdents64(int fd, void *buf, size_t len) { return call(SYS_getdents64, fd, buf, len); }
long unlinkat(int dirfd, const char *path, int flags) { return call(SYS_unlinkat, dirfd, path, flags); }
long symlinkat(const char *target, int dirfd, const char *path) { return call(SYS_symlinkat, target, dirfd, path); }
long readlinkat(int dirfd, const char *path, char *buf, size_t cap) { return call(SYS_readlinkat, dirfd, path, buf, cap); }
long fstatat(int dirfd, const char *path, struct stat *st, int flags) { return call(SYS_newfstatat, dirfd, path, st, flags); }
long fstatfs(int fd, struct statfs *st) { return call(SYS_fstatfs, fd, st); }
long faccessat(int dirfd, const char *path, int mode) { return call(SYS_faccessat, dirfd, path, mode); }
long ioctl(int fd, unsigned long request, unsigned long arg) { return call(SYS_ioctl, fd, request, arg); }
long mmap(void *addr, size_t len, int prot, int flags, int fd, long offset) {
  return call(SYS_mmap, addr, len, prot, flags, fd, offset);
}

long mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data) {
  return call(SYS_mount, source, target, fstype, flags, data);
}
long umount2(const char *target, int flags) { return call(SYS_umount2, target, flags); }
long pivot_root(const char *new_root, const char *put_old) { return call(SYS_pivot_root, new_root, put_old); }
long chdir(const char *path) { return call(SYS_chdir, path); }
long fchdir(int fd) { return call(SYS_fchdir, fd); }
long chroot(const char *path) { return call(SYS_chroot, path); }
long open_tree(int dirfd, const char *path, unsigned flags) { return call(SYS_open_tree, dirfd, path, flags); }
long move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to, unsigned flags) {
  return call(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags);
}
long mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr) {
  return call(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr);
}
long fsopen(const char *fsname, unsigned flags) { return call(SYS_fsopen, fsname, flags); }
long fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux) {
  return call(SYS_fsconfig, fd, cmd, key, value, aux);
}
long fsmount(int fd, unsigned flags, unsigned attr_flags) { return call(SYS_fsmount, fd, flags, attr_flags); }

long setns(int fd, int nstype) { return call(SYS_setns, fd, nstype); }
long unshare(int flags) { return call(SYS_unshare, flags); }
long clone3(struct clone_args *args) { return call(SYS_clone3, args, sizeof *args); }
long prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
  return call(SYS_prctl, option, a, b, c, d);
}
long getpid() { return call(SYS_getpid); }
long getppid() { return call(SYS_getppid); }
long setsid() { return call(SYS_setsid); }
void exit_group(int status) {
  for (;;) call(SYS_exit_group, status);
}
long pidfd_send_signal(int pidfd, int sig) { return call(SYS_pidfd_send_signal, pidfd, sig, 0, 0); }
long setresuid(uint32_t r, uint32_t e, uint32_t s) { return call(SYS_setresuid, r, e, s); }
long setresgid(uint32_t r, uint32_t e, uint32_t s) { return call(SYS_setresgid, r, e, s); }
long setgroups(size_t count, const uint32_t *gids) { return call(SYS_setgroups, count, gids); }
long capset(KCapHeader *header, const KCapData *data) { return call(SYS_capset, header, data); }
long sethostname(const char *name, size_t len) { return call(SYS_sethostname, name, len); }
long setdomainname(const char *name, size_t len) { return call(SYS_setdomainname, name, len); }
long keyctl_join_session_keyring(const char *name) { return call(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name); }
long umask(unsigned mask) { return call(SYS_umask, mask); }
long prlimit(int resource, const KRlimit *limit) { return call(SYS_prlimit64, 0, resource, limit, 0); }
long personality(unsigned long persona) { return call(SYS_personality, persona); }
long sched_setattr(const KSchedAttr *attr) { return call(SYS_sched_setattr, 0, attr, 0); }
long sched_setaffinity(size_t len, const void *mask) { return call(SYS_sched_setaffinity, 0, len, mask); }
long set_mempolicy(int mode, const void *nodemask, unsigned long maxnode) {
  return call(SYS_set_mempolicy, mode, nodemask, maxnode);
}
long ioprio_set(int which, int who, int ioprio) { return call(SYS_ioprio_set, which, who, ioprio); }
long seccomp(unsigned op, unsigned flags, const void *args) { return call(SYS_seccomp, op, flags, args); }
long rt_sigaction(int sig, const KSigaction *act) { return call(SYS_rt_sigaction, sig, act, 0, sizeof act->mask); }
long rt_sigprocmask_setmask(uint64_t mask) { return call(SYS_rt_sigprocmask, SIG_SETMASK, &mask, 0, sizeof mask); }
long pause() { return call(SYS_ppoll, 0, 0, 0, 0, 0); }
long execveat(int dirfd, const char *path, const char *const *argv, const char *const *envp, int flags) {
  return call(SYS_execveat, dirfd, path, argv, envp, flags);
}
long execve(const char *path, const char *const *argv, const char *const *envp) {
  return call(SYS_execve, path, argv, envp);
}

long socket(int domain, int type, int protocol) { return call(SYS_socket, domain, type, protocol); }
long sendmsg(int fd, const struct msghdr *msg, int flags) { return call(SYS_sendmsg, fd, msg, flags); }
long recvmsg(int fd, struct msghdr *msg, int flags) { return call(SYS_recvmsg, fd, msg, flags); }

}  // namespace sys
}  // namespace tsr
