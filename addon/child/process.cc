// The last steps before the program runs: process attributes, user and groups,
// capabilities, working directory, no_new_privs, seccomp, the program lookup, and the
// execveat of the sealed tsrunc-init stub, which waits for `start` and executes the program.
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "child.h"
#include "weaken.h"

namespace tsr {

namespace {

constexpr int kPathMax = 4096;
char g_resolved[kPathMax];  // the program's resolved path (static: no stack pressure)
char g_fifo_arg[24];        // the stub's FIFO_FD argument
int g_proc_self = -1;       // O_DIRECTORY fd of /proc/<our pid> on a verified procfs

bool is_procfs(int fd) {
  struct statfs sf;
  return sys::fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

// This process's /proc entry: the one stashed before pivot_root, or (exec, no rootfs
// setup) the current /proc, which must then be a real procfs.
int proc_self() {
  if (g_proc_self >= 0) return g_proc_self;
  g_proc_self = (int)check(sys::openat(AT_FDCWD, "/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0), Step::LSM_PROC);
  if (!is_procfs(g_proc_self)) die(Step::LSM_PROC, EINVAL);
  return g_proc_self;
}

void set_rlimits(const Process &proc) {
  for (uint32_t i = 0; i < proc.rlimits.count; i++) {
    const Rlimit &r = plan_at(proc.rlimits, i);
    KRlimit lim = {r.soft, r.hard};
    set_index(i);
    check(sys::prlimit((int)r.resource, &lim), Step::RLIMIT);
  }
  clear_index();
}

void set_scheduler(const proto::Scheduler &s) {
  KSchedAttr attr = {};
  attr.size = sizeof attr;
  attr.sched_policy = s.policy;
  attr.sched_flags = s.flags;
  attr.sched_nice = s.nice;
  attr.sched_priority = (uint32_t)s.priority;
  attr.sched_runtime = s.runtime;
  attr.sched_deadline = s.deadline;
  attr.sched_period = s.period;
  check(sys::sched_setattr(&attr), Step::SCHEDULER);
}

// Write an LSM exec label through this process's own attr file (relative to /proc/self).
void set_lsm_label(const char *file, const char *prefix, const char *label, Step step) {
  char buf[1024];
  str_copy(buf, sizeof buf, prefix);
  if (!str_append(buf, sizeof buf, label)) die(step, ENAMETOOLONG);
  long fd = check(sys::openat(proc_self(), file, O_WRONLY | O_CLOEXEC, 0), step);
  write_all_checked((int)fd, buf, step);
  close_checked(fd, step);
}

void drop_bounding_set(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    long rc = sys::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    // EINVAL: a capability this kernel does not know (above cap_last_cap).
    if (rc < 0 && rc != -EINVAL) die_at(Step::CAPBSET_DROP, rc, (uint32_t)cap);
  }
}

void set_capabilities(const Capabilities &caps) {
  KCapHeader hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  KCapData data[2] = {};
  data[0].effective = (uint32_t)caps.effective;
  data[1].effective = (uint32_t)(caps.effective >> 32);
  data[0].permitted = (uint32_t)caps.permitted;
  data[1].permitted = (uint32_t)(caps.permitted >> 32);
  data[0].inheritable = (uint32_t)caps.inheritable;
  data[1].inheritable = (uint32_t)(caps.inheritable >> 32);
  check(sys::capset(&hdr, data), Step::CAPSET);
  check(sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), Step::AMBIENT_CLEAR);
  // Only a capability that is also permitted and inheritable can be ambient. One the config
  // leaves out of those is skipped without a word, as runc 1.1 does (its `runc spec` asks for
  // exactly that); one the kernel still refuses is a warning, as runc gives, not a failed start.
  uint64_t raisable = caps.ambient & caps.permitted & caps.inheritable;
  for (int cap = 0; cap < 64; cap++) {
    if (!(raisable & (1ULL << cap))) continue;
    long rc = sys::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    if (rc < 0) warn(Step::AMBIENT_RAISE, rc, (uint32_t)cap);
  }
}

// Stdio handed in by the caller becomes the process's own before the uid change (runc's
// fixStdioPermissions, crun's maybe_chown_std_streams), so a process that is not root can
// still reopen it through /proc/self/fd: files and pipes take the uid and gid, the
// container's pty the uid; /dev/null and other devices stay as they are. An owner this
// user namespace cannot change (EPERM, EINVAL) or a read-only file system is no error.
void chown_stdio(const Process &proc) {
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    long rc = sys::fstatat(fd, "", &st, AT_EMPTY_PATH);
    if (rc == -EBADF) continue;
    set_index((uint32_t)fd);
    check(rc, Step::STDIO_CHOWN);
    bool device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
    if (st.st_uid == proc.uid || (device && !(proc.terminal && S_ISCHR(st.st_mode) && st.st_rdev != make_dev(1, 3)))) continue;
    rc = sys::fchownat(fd, "", proc.uid, device ? ~0u : proc.gid, AT_EMPTY_PATH);
    if (rc < 0 && rc != -EPERM && rc != -EINVAL && rc != -EROFS) die_at(Step::STDIO_CHOWN, rc, (uint32_t)fd);
  }
  clear_index();
}

void set_user(const Process &proc) {
  chown_stdio(proc);
  if (proc.set_groups) {
    const uint32_t *gids = proc.additional_gids.count ? &plan_at(proc.additional_gids, 0) : nullptr;
    check(sys::setgroups(proc.additional_gids.count, gids), Step::SETGROUPS);
  }
  check(sys::setresgid(proc.gid, proc.gid, proc.gid), Step::SETRESGID);
  check(sys::setresuid(proc.uid, proc.uid, proc.uid), Step::SETRESUID);
}

// The working directory is resolved inside the container's root, never through a /proc
// magic link such as /proc/self/fd/N naming a host directory (CVE-2024-21626 class). It is
// opened before a seccomp profile is loaded (which may deny what this needs) and entered
// after the user change, so the search permission is checked for the right user.
long open_cwd(const char *cwd) {
  if (kWeakenFds) return -1;
  long root = check(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), Step::CHDIR);
  long fd = check(open_in_root((int)root, cwd, O_DIRECTORY), Step::CHDIR);
  close_checked(root, Step::CHDIR);
  return fd;
}

void change_directory(const char *cwd, long cwd_fd) {
  if (cwd_fd < 0) {
    check(sys::chdir(cwd), Step::CHDIR);
    return;
  }
  check(sys::fchdir((int)cwd_fd), Step::CHDIR);
  close_checked(cwd_fd, Step::CHDIR);
}

// execvp-style lookup of the program in PATH, as the final user. Fills g_resolved.
// Real and effective ids are equal by now, so the flagless faccessat(2) checks for the
// right user (and it is the plain faccessat: a seccomp profile loaded earlier may deny
// faccessat2 with EPERM).
void look_up_program(const Process &proc) {
  const char *name = str(proc.exec_path) ? str(proc.exec_path) : strv_at(proc.argv, 0);
  bool has_slash = false;
  for (const char *c = name; *c; c++) has_slash |= *c == '/';
  struct stat st;
  if (has_slash) {
    if (!str_copy(g_resolved, sizeof g_resolved, name)) die(Step::EXEC_STAT, ENAMETOOLONG);
    check(sys::fstatat(AT_FDCWD, g_resolved, &st, 0), Step::EXEC_STAT);
    if (S_ISDIR(st.st_mode)) die(Step::EXEC_ACCESS, EACCES);
    check(sys::faccessat(AT_FDCWD, g_resolved, X_OK), Step::EXEC_ACCESS);
    return;
  }
  if (!*name) die(Step::EXEC_LOOKUP, ENOENT);
  const char *path = str(proc.path_env) ? str(proc.path_env) : "";
  long denied = 0;
  while (true) {
    const char *end = path;
    while (*end && *end != ':') end++;
    size_t len = (size_t)(end - path);
    if (len + 1 + str_len(name) + 1 <= sizeof g_resolved) {
      // An empty PATH element means the current directory.
      size_t k = 0;
      if (len == 0) g_resolved[k++] = '.';
      for (size_t i = 0; i < len; i++) g_resolved[k++] = path[i];
      g_resolved[k++] = '/';
      g_resolved[k] = 0;
      str_append(g_resolved, sizeof g_resolved, name);
      if (sys::fstatat(AT_FDCWD, g_resolved, &st, 0) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) {
        long rc = sys::faccessat(AT_FDCWD, g_resolved, X_OK);
        if (rc == 0) return;
        denied = rc;
      }
    }
    if (!*end) break;
    path = end + 1;
  }
  if (denied) die(Step::EXEC_ACCESS, denied);
  die(Step::EXEC_LOOKUP, ENOENT);
}

char g_passwd[65536];  // the container's /etc/passwd (static: no stack pressure, no allocation)
char g_home[4096 + 6];

// HOME for a config that does not set it, as runc does: the home directory of the
// process's uid in the container's /etc/passwd (resolved inside the root), else "/".
void fill_home(const Process &proc) {
  long root = check(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), Step::HOME);
  // Non-blocking, and only a regular file is read: a FIFO there would hang the setup.
  long fd = sys::openat2((int)root, "etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  close_checked(root, Step::HOME);
  if (fd < 0) return;  // no passwd file: the "HOME=/" placeholder stays
  struct stat st;
  if (sys::fstatat((int)fd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISREG(st.st_mode)) {
    close_checked(fd, Step::HOME);
    return;
  }
  size_t len = 0;
  for (;;) {
    long n = sys::read((int)fd, g_passwd + len, sizeof g_passwd - 1 - len);
    if (n == -EINTR) continue;
    if (n <= 0) break;  // a passwd file that cannot be read is no passwd file
    len += (size_t)n;
    if (len == sizeof g_passwd - 1) break;
  }
  close_checked(fd, Step::HOME);
  g_passwd[len] = 0;
  char uid[24];
  fmt_i64(uid, proc.uid);
  // name:password:uid:gid:gecos:home:shell
  for (char *line = g_passwd; *line;) {
    char *end = line;
    while (*end && *end != '\n') end++;
    char saved = *end;
    *end = 0;
    const char *field[7] = {};
    int nf = 0;
    field[nf++] = line;
    for (char *c = line; *c && nf < 7; c++) {
      if (*c == ':') {
        *c = 0;
        field[nf++] = c + 1;
      }
    }
    if (nf >= 6 && str_eq(field[2], uid) && field[5][0]) {
      str_copy(g_home, sizeof g_home, "HOME=");
      if (str_append(g_home, sizeof g_home, field[5])) {
        const char **envp = const_cast<const char **>(strv(proc.envp));
        envp[proc.envp.count - 1] = g_home;
      }
      return;
    }
    if (!saved) break;
    line = end + 1;
  }
}

void load_seccomp(const proto::Seccomp &sc) {
  struct sock_fprog prog = {};
  prog.len = (unsigned short)(sc.bpf.len / sizeof(struct sock_filter));
  prog.filter = const_cast<struct sock_filter *>(static_cast<const struct sock_filter *>(blob(sc.bpf)));
  // A filter with notify rules needs a listener fd, which goes to the runtime and from
  // there to the seccomp agent.
  unsigned flags = sc.flags | (sc.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long listener = check(sys::seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog), Step::SECCOMP);
  if (sc.notify) {
    check(send_msg_fd(MsgType::SECCOMP_FD, (int)listener), Step::SECCOMP_SEND);
    close_checked(listener, Step::SECCOMP_SEND);
  }
}

// A SCHED_DEADLINE task cannot fork (the kernel refuses with EAGAIN): that policy is set in
// stage 2 itself, every other one in stage 1 before the namespaces (apply_early_attributes).
constexpr uint32_t kSchedDeadline = 6;
bool scheduler_is_early(const Process &proc) { return proc.has_scheduler && proc.scheduler.policy != kSchedDeadline; }

void set_affinity(const proto::Blob &mask) {
  if (mask.len) check(sys::sched_setaffinity(mask.len, blob(mask)), Step::CPU_AFFINITY);
}

}  // namespace

void stash_proc_self() {
  if (g_proc_self >= 0) return;
  long fd = sys::openat(AT_FDCWD, "/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0);
  // Without a usable host procfs, fall back to checking the container's at write time.
  if (fd >= 0 && !is_procfs((int)fd)) {
    close_checked(fd, Step::LSM_PROC);
    fd = -1;
  }
  g_proc_self = (int)fd;
}

void apply_early_attributes(const Process &proc) {
  if (scheduler_is_early(proc)) set_scheduler(proc.scheduler);
  if (proc.has_cpu_affinity) set_affinity(proc.cpu_affinity.initial);
}

void apply_final_affinity(const Process &proc) {
  if (proc.has_cpu_affinity) set_affinity(proc.cpu_affinity.final);
}

void apply_process_attributes(const Process &proc) {
  set_rlimits(proc);
  if (proc.personality >= 0) check(sys::personality((unsigned long)proc.personality), Step::PERSONALITY);
  if (proc.has_scheduler && !scheduler_is_early(proc)) set_scheduler(proc.scheduler);
  if (proc.has_io_priority) check(sys::ioprio_set(1 /* IOPRIO_WHO_PROCESS */, 0, proc.io_priority), Step::IOPRIO);
  if (proc.has_memory_policy) {
    const proto::MemoryPolicy &mp = proc.memory_policy;
    // maxnode counts one more than the bits the mask holds (set_mempolicy(2), as numactl passes it).
    unsigned long maxnode = mp.nodes.len ? mp.nodes.len * 8 + 1 : 0;
    check(sys::set_mempolicy((int)mp.mode, mp.nodes.len ? blob(mp.nodes) : nullptr, maxnode), Step::MEMORY_POLICY);
  }
}

void finalize_and_exec(const Plan *p) {
  const Process &proc = p->process;
  // Still root with every capability: the container's /etc/passwd is readable whatever its mode.
  if (proc.resolve_home && proc.envp.count) fill_home(proc);
  if (proc.no_new_privileges) check(sys::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), Step::NO_NEW_PRIVS);
  if (const char *profile = str(proc.apparmor_profile)) {
    // Newer kernels expose the AppArmor-specific file; fall back to the shared one.
    bool own_file = sys::faccessat(proc_self(), "attr/apparmor/exec", F_OK) == 0;
    set_lsm_label(own_file ? "attr/apparmor/exec" : "attr/exec", "exec ", profile, Step::APPARMOR);
  }
  if (const char *label = str(proc.selinux_label)) set_lsm_label("attr/exec", "", label, Step::SELINUX);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the user
  // change drops it. With no_new_privs, as late as possible (runc's order).
  bool seccomp_early = proc.has_seccomp && !proc.no_new_privileges;
  const char *cwd = str(proc.cwd);
  long cwd_fd = open_cwd(cwd);
  if (seccomp_early) load_seccomp(proc.seccomp);

  if (proc.has_capabilities) drop_bounding_set(proc.capabilities.bounding);
  check(sys::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), Step::KEEPCAPS);
  set_user(proc);
  check(sys::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), Step::KEEPCAPS);
  if (proc.has_capabilities) set_capabilities(proc.capabilities);
  sys::umask(proc.umask >= 0 ? (unsigned)proc.umask : 022);
  change_directory(cwd, cwd_fd);
  look_up_program(proc);

  if (proc.has_seccomp && !seccomp_early) load_seccomp(proc.seccomp);

  // Only stdio, the preserved fds, the fifo the stub waits on, the stub itself and the
  // sync socket (close-on-exec: its EOF tells the runtime the stub is running) survive.
  if (!kWeakenFds) {
    close_fds_except(3 + (int)proc.preserve_fds, [&proc](auto &visit) {
      visit(proc.exec_fifo_fd);
      visit(g_launch.stub_fd);
      visit(g_launch.sync_fd);
    });
  }
  if (proc.exec_fifo_fd >= 0) check(make_inheritable(proc.exec_fifo_fd), Step::EXEC_FIFO);
  apply_final_affinity(proc);

  // tsrunc-init FIFO_FD PATH ARGV0 ARGS..., in the headroom plan.json reserves before argv.
  const char **argv = strv_headroom(proc.argv, 3);
  argv[0] = "tsrunc-init";
  argv[1] = fmt_i64(g_fifo_arg, proc.exec_fifo_fd);
  argv[2] = g_resolved;
  const char *const *envp = strv(proc.envp);
  check(send_msg(MsgType::READY, 0), Step::SYNC_READY);
  long rc = sys::execveat(g_launch.stub_fd, "", argv, envp, AT_EMPTY_PATH);
  // A seccomp profile may deny execveat but allow execve.
  FdPath via_proc(g_launch.stub_fd);
  sys::execve(via_proc.c_str(), argv, envp);
  die(Step::EXEC, rc);
}

}  // namespace tsr
