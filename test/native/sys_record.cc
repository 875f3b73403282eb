// The recording test double of the child program's system-call layer (addon/child/sys.h).
//
// Linked instead of sys_linux.cc into a host binary (see harness.cc), it writes every call
// as one JSON line on stdout, {"call", "args", "path"?, "ret"}, and answers from a scripted
// file system instead of the kernel, so the child's order of operations can be checked in
// unit tests without root (test/unit/child-order.test.ts).
//
// The script (set by harness.cc from its command line):
//   paths    PATH=dir|file[:CONTENT]|exe|fifo|chr:MAJ:MIN|link:TARGET|missing; anything else opened is a
//            directory, and a name looked up without following it (AT_SYMLINK_NOFOLLOW) or a
//            program looked up in PATH is missing
//   faults   CALL[:ARG0][#N]=ERRNO: the Nth call (default: every call) of CALL (with that
//            first argument: prctl's option, the message type of a sendmsg) fails with ERRNO
//   the plan fd is real (mapped for the child); fstatfs says procfs under a "proc" component
//   and devpts for ".../dev/pts"; clone3 continues as the new process (stage 2); execve and
//   exit_group end the run.
#include "sys_record.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "../../addon/child/sys.h"
#include "../../addon/generated/protocol.h"

namespace record {

Script g_script;

namespace {

std::map<int, std::string> g_fds;  // fake descriptor -> the path it names
int g_next_fd = 100;
std::map<std::string, int> g_calls;

std::string json_str(const char *s) {
  if (!s) return "null";
  std::string o = "\"";
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') o += '\\', o += (char)c;
    else if (c < 0x20) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += (char)c;
  }
  return o + "\"";
}

std::string fd_path(int fd) {
  if (fd == AT_FDCWD) return g_script.cwd;
  auto it = g_fds.find(fd);
  return it == g_fds.end() ? "fd:" + std::to_string(fd) : it->second;
}

std::string normalize(const std::string &p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string &s : parts) out += "/" + s;
  return out.empty() ? "/" : out;
}

// What a path argument names: "/proc/self/fd/N" is the fake fd's path; relative paths are
// resolved against dirfd.
std::string resolve(int dirfd, const char *path) {
  if (!path) return "";
  std::string p = path;
  if (p.rfind("/proc/self/fd/", 0) == 0) return fd_path(atoi(p.c_str() + 14));
  if (p.empty()) return fd_path(dirfd);
  if (p[0] == '/') return normalize(p);
  return normalize(fd_path(dirfd) + "/" + p);
}

// Is this call scripted to fail? Faults name a call ("prctl") or a call with its first
// argument ("prctl:47"), each with its own count.
long fault(const char *call, long arg0 = -1, bool has_arg0 = false) {
  std::string plain = call;
  std::string keyed = has_arg0 ? plain + ":" + std::to_string(arg0) : "";
  int n = ++g_calls[plain];
  int nk = has_arg0 ? ++g_calls[keyed] : 0;
  for (const Fault &f : g_script.faults) {
    if (f.call == plain && (f.nth == 0 || f.nth == n)) return -f.err;
    if (has_arg0 && f.call == keyed && (f.nth == 0 || f.nth == nk)) return -f.err;
  }
  return 0;
}

std::string g_line;
template <typename T>
void arg(const T &v) {
  g_line += g_line.back() == '[' ? "" : ",";
  g_line += std::to_string(v);
}
void arg(const char *s) {
  g_line += g_line.back() == '[' ? "" : ",";
  g_line += json_str(s);
}
// The start of a record: the call's name and its arguments.
template <typename... A>
void begin(const char *call, const A &...args) {
  g_line = std::string("{\"call\":") + json_str(call) + ",\"args\":[";
  (arg(args), ...);
}
long end(long ret, const std::string &path = "", const std::string &extra = "") {
  g_line += "]";
  if (!path.empty()) g_line += ",\"path\":" + json_str(path.c_str());
  g_line += extra;
  g_line += ",\"ret\":" + std::to_string(ret) + "}\n";
  fputs(g_line.c_str(), stdout);
  fflush(stdout);
  return ret;
}

const Entry *lookup(const std::string &path) {
  for (const Entry &e : g_script.paths)
    if (e.path == path) return &e;
  return nullptr;
}

long new_fd(const std::string &path) {
  int fd = g_next_fd++;
  g_fds[fd] = path;
  return fd;
}

long open_common(const char *call, int dirfd, const char *path, uint64_t flags) {
  std::string full = resolve(dirfd, path);
  long f = fault(call);
  if (f) return end(f, full);
  const Entry *e = lookup(full);
  if (e && e->kind == "missing" && !(flags & O_CREAT)) return end(-ENOENT, full);
  return end(new_fd(full), full);
}

void fill_stat(const std::string &path, struct stat *st) {
  memset(st, 0, sizeof *st);
  const Entry *e = lookup(path);
  std::string kind = e ? e->kind : "dir";
  if (path.size() >= 9 && path.compare(path.size() - 9, 9, "/dev/null") == 0 && !e) kind = "chr:1:3";
  if (path.size() >= 9 && path.compare(path.size() - 9, 9, "/dev/ptmx") == 0 && !e) kind = "chr:5:2";
  if (kind == "dir") st->st_mode = S_IFDIR | 0755;
  else if (kind == "file") st->st_mode = S_IFREG | 0644;
  else if (kind == "exe") st->st_mode = S_IFREG | 0755;
  else if (kind == "fifo") st->st_mode = S_IFIFO | 0644;
  else if (kind.rfind("link:", 0) == 0) st->st_mode = S_IFLNK | 0777;
  else if (kind.rfind("chr:", 0) == 0) {
    unsigned maj = 0, min = 0;
    sscanf(kind.c_str() + 4, "%u:%u", &maj, &min);
    st->st_mode = S_IFCHR | 0666;
    st->st_rdev = makedev(maj, min);
  }
  st->st_dev = 42;
}

}  // namespace

}  // namespace record

namespace tsr {
namespace sys {

using namespace record;

long read(int fd, void *buf, size_t len) {
  begin("read", fd);
  if (long f = fault("read")) return end(f, fd_path(fd));
  if (fd == g_script.plan_fd) return end(::read(fd, buf, len));
  const Entry *e = lookup(fd_path(fd));
  long n = 0;
  if (e && e->kind == "file" && !e->content.empty() && g_script.consumed[fd] == 0) {
    n = (long)std::min(len, e->content.size());
    memcpy(buf, e->content.data(), (size_t)n);
    g_script.consumed[fd] = 1;
  }
  return end(n, fd_path(fd));
}
long write(int fd, const void *buf, size_t len) {
  begin("write", fd);
  std::string text(static_cast<const char *>(buf), len);
  arg(text.c_str());
  if (long f = fault("write")) return end(f, fd_path(fd));
  return end((long)len, fd_path(fd));
}
long close(int fd) {
  begin("close", fd);
  std::string path = fd_path(fd);
  if (long f = fault("close")) return end(f, path);
  if (fd == g_script.plan_fd) return end(::close(fd) < 0 ? -errno : 0, path);
  g_fds.erase(fd);
  return end(0, path);
}
long close_range(unsigned first, unsigned last, unsigned flags) {
  begin("close_range", first, last, flags);
  return end(fault("close_range"));
}
long fcntl(int fd, int cmd, long a) {
  begin("fcntl", fd, cmd, a);
  if (long f = fault("fcntl")) return end(f);
  if (g_script.closed.count(fd)) return end(-EBADF);
  return end(0);
}
long dup3(int oldfd, int newfd, int flags) {
  begin("dup3", oldfd, newfd, flags);
  if (long f = fault("dup3")) return end(f);
  g_fds[newfd] = fd_path(oldfd);
  return end(newfd);
}
long openat(int dirfd, const char *path, int flags, unsigned mode) {
  begin("openat", dirfd, path, flags);
  return open_common("openat", dirfd, path, (uint64_t)flags);
}
long openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve_flags) {
  begin("openat2", dirfd, path, flags, resolve_flags);
  return open_common("openat2", dirfd, path, flags);
}
long mkdirat(int dirfd, const char *path, unsigned mode) {
  begin("mkdirat", dirfd, path, mode);
  return end(fault("mkdirat"), resolve(dirfd, path));
}
long mknodat(int dirfd, const char *path, unsigned mode, uint64_t dev) {
  begin("mknodat", dirfd, path, mode, dev);
  return end(fault("mknodat"), resolve(dirfd, path));
}
long fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags) {
  begin("fchownat", dirfd, path, uid, gid);
  return end(fault("fchownat", dirfd, true), resolve(dirfd, path));
}
long fchmodat(int dirfd, const char *path, unsigned mode) {
  begin("fchmodat", dirfd, path, mode);
  return end(fault("fchmodat"), resolve(dirfd, path));
}
long getdents64(int fd, void *buf, size_t len) {
  begin("getdents64", fd);
  // Directories are empty here: the test sees the copy start, not a tree.
  return end(fault("getdents64"), fd_path(fd));
}
long unlinkat(int dirfd, const char *path, int flags) {
  begin("unlinkat", dirfd, path, flags);
  return end(fault("unlinkat"), resolve(dirfd, path));
}
long symlinkat(const char *target, int dirfd, const char *path) {
  begin("symlinkat", target, dirfd, path);
  return end(fault("symlinkat"), resolve(dirfd, path));
}
long readlinkat(int dirfd, const char *path, char *buf, size_t cap) {
  begin("readlinkat", dirfd, path);
  std::string full = resolve(dirfd, path);
  if (long f = fault("readlinkat")) return end(f, full);
  const Entry *e = lookup(full);
  if (!e || e->kind.rfind("link:", 0) != 0) return end(-EINVAL, full);
  std::string target = e->kind.substr(5);
  size_t n = std::min(cap, target.size());
  memcpy(buf, target.data(), n);
  return end((long)n, full);
}
long fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  begin("fstatat", dirfd, path, flags);
  if (dirfd == g_script.plan_fd) return end(::fstat(dirfd, st) < 0 ? -errno : 0);
  std::string full = resolve(dirfd, path);
  if (long f = fault("fstatat")) return end(f, full);
  bool named = path && *path;
  if (!named && g_script.closed.count(dirfd)) return end(-EBADF, full);
  const Entry *e = lookup(full);
  if ((e && e->kind == "missing") || (!e && named && ((flags & AT_SYMLINK_NOFOLLOW) || dirfd == AT_FDCWD)))
    return end(-ENOENT, full);
  fill_stat(full, st);
  return end(0, full);
}
long fstatfs(int fd, struct statfs *st) {
  begin("fstatfs", fd);
  std::string path = fd_path(fd);
  if (long f = fault("fstatfs")) return end(f, path);
  memset(st, 0, sizeof *st);
  bool proc = path == "/proc" || path.rfind("/proc/", 0) == 0 || path.find("/proc/") != std::string::npos ||
              (path.size() >= 5 && path.compare(path.size() - 5, 5, "/proc") == 0);
  bool pts = path.size() >= 8 && path.compare(path.size() - 8, 8, "/dev/pts") == 0;
  st->f_type = proc ? PROC_SUPER_MAGIC : pts ? DEVPTS_SUPER_MAGIC : EXT4_SUPER_MAGIC;
  return end(0, path);
}
long faccessat(int dirfd, const char *path, int mode) {
  begin("faccessat", dirfd, path, mode);
  std::string full = resolve(dirfd, path);
  if (long f = fault("faccessat")) return end(f, full);
  const Entry *e = lookup(full);
  if (mode == X_OK && (!e || e->kind != "exe")) return end(e ? -EACCES : -ENOENT, full);
  return end(0, full);
}
long ioctl(int fd, unsigned long request, unsigned long a) {
  begin("ioctl", fd, request);
  if (long f = fault("ioctl")) return end(f, fd_path(fd));
  if (request == TIOCGPTPEER) return end(new_fd("/dev/pts/0"), fd_path(fd));
  return end(0, fd_path(fd));
}
long mmap(void *addr, size_t len, int prot, int flags, int fd, long offset) {
  begin("mmap", len, fd);
  if (long f = fault("mmap")) return end(f);
  void *p = ::mmap(addr, len, prot, flags, fd, offset);
  long r = p == MAP_FAILED ? -errno : 0;
  end(r);  // 0 for success: an address means nothing in a log
  return p == MAP_FAILED ? r : (long)p;
}

long mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data) {
  begin("mount", source, target, fstype, flags, static_cast<const char *>(data));
  return end(fault("mount"), resolve(AT_FDCWD, target));
}
long umount2(const char *target, int flags) {
  begin("umount2", target, flags);
  return end(fault("umount2"), resolve(AT_FDCWD, target));
}
long pivot_root(const char *new_root, const char *put_old) {
  begin("pivot_root", new_root, put_old);
  long f = fault("pivot_root");
  if (!f) g_script.cwd = "/";
  return end(f, resolve(AT_FDCWD, new_root));
}
long chdir(const char *path) {
  begin("chdir", path);
  std::string full = resolve(AT_FDCWD, path);
  long f = fault("chdir");
  if (!f) g_script.cwd = full;
  return end(f, full);
}
long fchdir(int fd) {
  begin("fchdir", fd);
  long f = fault("fchdir");
  if (!f) g_script.cwd = fd_path(fd);
  return end(f, fd_path(fd));
}
long chroot(const char *path) {
  begin("chroot", path);
  return end(fault("chroot"), resolve(AT_FDCWD, path));
}
long open_tree(int dirfd, const char *path, unsigned flags) {
  begin("open_tree", dirfd, path, flags);
  std::string full = resolve(dirfd, path);
  if (long f = fault("open_tree")) return end(f, full);
  return end(new_fd(full), full);
}
long move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to, unsigned flags) {
  begin("move_mount", from_dirfd, to_dirfd);
  return end(fault("move_mount"), resolve(to_dirfd, to), ",\"from\":" + json_str(resolve(from_dirfd, from).c_str()));
}
long mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr) {
  begin("mount_setattr", dirfd, flags, attr->attr_set, attr->attr_clr, attr->propagation);
  return end(fault("mount_setattr"), resolve(dirfd, path));
}
long fsopen(const char *fsname, unsigned flags) {
  begin("fsopen", fsname);
  if (long f = fault("fsopen")) return end(f);
  return end(new_fd(std::string("fs:") + fsname));
}
long fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux) {
  begin("fsconfig", fd, cmd);
  return end(fault("fsconfig"));
}
long fsmount(int fd, unsigned flags, unsigned attr_flags) {
  begin("fsmount", fd, attr_flags);
  if (long f = fault("fsmount")) return end(f);
  return end(new_fd("mount:" + fd_path(fd)));
}

long setns(int fd, int nstype) {
  begin("setns", fd, nstype);
  return end(fault("setns"));
}
long unshare(int flags) {
  begin("unshare", flags);
  return end(fault("unshare"));
}
long clone3(struct clone_args *args) {
  begin("clone3", args->flags);
  if (long f = fault("clone3")) return end(f);
  if (g_script.clone_parent) {
    if (args->flags & CLONE_PIDFD) *reinterpret_cast<int *>(args->pidfd) = (int)new_fd("pidfd:4242");
    return end(4242);
  }
  return end(0);
}
long prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
  begin("prctl", option, a, b);
  return end(fault("prctl", option, true));
}
long getpid() {
  begin("getpid");
  return end(2000);
}
long getppid() {
  begin("getppid");
  // --runtime-gone: the runtime exits right after the first look (the reaper adopts us).
  return end(g_script.runtime_gone && ++g_calls["getppid"] > 1 ? 1 : 1000);
}
long setsid() {
  begin("setsid");
  return end(fault("setsid"));
}
void exit_group(int status) {
  begin("exit_group", status);
  end(0);
  exit(status);
}
long pidfd_send_signal(int pidfd, int sig) {
  begin("pidfd_send_signal", pidfd, sig);
  return end(fault("pidfd_send_signal"), fd_path(pidfd));
}
long setresuid(uint32_t r, uint32_t e, uint32_t s) {
  begin("setresuid", r, e, s);
  return end(fault("setresuid"));
}
long setresgid(uint32_t r, uint32_t e, uint32_t s) {
  begin("setresgid", r, e, s);
  return end(fault("setresgid"));
}
long setgroups(size_t count, const uint32_t *gids) {
  begin("setgroups");
  for (size_t i = 0; i < count; i++) arg(gids[i]);
  return end(fault("setgroups"));
}
long capset(tsr::KCapHeader *header, const tsr::KCapData *data) {
  begin("capset", ((uint64_t)data[1].effective << 32) | data[0].effective, ((uint64_t)data[1].permitted << 32) | data[0].permitted, ((uint64_t)data[1].inheritable << 32) | data[0].inheritable);
  return end(fault("capset"));
}
long sethostname(const char *name, size_t len) {
  begin("sethostname", std::string(name, len).c_str());
  return end(fault("sethostname"));
}
long setdomainname(const char *name, size_t len) {
  begin("setdomainname", std::string(name, len).c_str());
  return end(fault("setdomainname"));
}
long keyctl_join_session_keyring(const char *name) {
  begin("keyctl_join_session_keyring", name);
  return end(fault("keyctl_join_session_keyring"));
}
long umask(unsigned mask) {
  begin("umask", mask);
  return end(022);
}
long prlimit(int resource, const tsr::KRlimit *limit) {
  begin("prlimit", resource, limit->cur, limit->max);
  return end(fault("prlimit"));
}
long personality(unsigned long persona) {
  begin("personality", persona);
  return end(fault("personality"));
}
long sched_setattr(const tsr::KSchedAttr *attr) {
  begin("sched_setattr", attr->sched_policy);
  return end(fault("sched_setattr"));
}
long sched_setaffinity(size_t len, const void *mask) {
  const unsigned char *m = (const unsigned char *)mask;
  begin("sched_setaffinity", len, len ? m[0] : 0);
  return end(fault("sched_setaffinity"));
}
long set_mempolicy(int mode, const void *nodemask, unsigned long maxnode) {
  const unsigned char *m = (const unsigned char *)nodemask;
  begin("set_mempolicy", mode, maxnode > 1 ? m[0] : 0, maxnode);
  return end(fault("set_mempolicy"));
}
long socket(int domain, int type, int protocol) {
  begin("socket", domain, type, protocol);
  if (long f = fault("socket")) return end(f);
  return end(new_fd("socket"));
}
long ioprio_set(int which, int who, int ioprio) {
  begin("ioprio_set", ioprio);
  return end(fault("ioprio_set"));
}
long seccomp(unsigned op, unsigned flags, const void *args) {
  begin("seccomp", op, flags);
  if (long f = fault("seccomp")) return end(f);
  return end(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? new_fd("seccomp-listener") : 0);
}
long rt_sigaction(int sig, const tsr::KSigaction *act) {
  begin("rt_sigaction", sig, act->handler == SIG_DFL ? "SIG_DFL" : "other");
  return end(fault("rt_sigaction"));
}
long rt_sigprocmask_setmask(uint64_t mask) {
  begin("rt_sigprocmask_setmask", mask);
  return end(fault("rt_sigprocmask_setmask"));
}
long pause() {
  begin("pause");
  end(0);
  exit(0);
}
long execveat(int dirfd, const char *path, const char *const *argv, const char *const *envp, int flags) {
  begin("execveat", dirfd);
  g_line += "],\"argv\":[";
  for (int i = 0; argv[i]; i++) arg(argv[i]);
  g_line += "],\"envp\":[";
  for (int i = 0; envp[i]; i++) arg(envp[i]);
  long f = fault("execveat");
  if (f) return end(f);
  end(0);
  exit(0);
}
long execve(const char *path, const char *const *argv, const char *const *envp) {
  begin("execve", path);
  long f = fault("execve");
  if (f) return end(f);
  end(0);
  exit(0);
}

long sendmsg(int fd, const struct msghdr *msg, int flags) {
  begin("sendmsg", fd);
  std::string extra;
  long type = -1;
  if (fd == g_script.sync_fd && msg->msg_iov[0].iov_len == sizeof(tsr::proto::Msg)) {
    const tsr::proto::Msg *m = static_cast<const tsr::proto::Msg *>(msg->msg_iov[0].iov_base);
    type = m->type;
    extra = ",\"msg\":{\"type\":" + std::to_string(m->type) + ",\"step\":" + std::to_string(m->step) +
            ",\"err\":" + std::to_string(m->err) + ",\"pid\":" + std::to_string(m->pid) +
            ",\"index\":" + std::to_string(m->index) + "}";
  }
  extra += std::string(",\"withFd\":") + (msg->msg_controllen ? "true" : "false");
  if (long f = fault("sendmsg", type, type >= 0)) return end(f, "", extra);
  return end((long)msg->msg_iov[0].iov_len, "", extra);
}
long recvmsg(int fd, struct msghdr *msg, int flags) {
  begin("recvmsg", fd);
  if (long f = fault("recvmsg")) return end(f);
  tsr::proto::Msg go = {};
  go.type = (uint32_t)tsr::proto::MsgType::GO;
  memcpy(msg->msg_iov[0].iov_base, &go, sizeof go);
  return end(sizeof go);
}

}  // namespace sys
}  // namespace tsr
