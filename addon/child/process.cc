// The last steps before the program runs: process attributes, user and groups,
// capabilities, working directory, no_new_privs, seccomp, the program lookup, and the
// execve of the sealed tsrunc-init stub, which waits for `start` and executes the program.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "child.h"
#include "sys.h"
#include "weaken.h"

namespace tsr {

namespace {

// struct sched_attr from <linux/sched/types.h>, which clashes with glibc's <sched.h>.
struct sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

constexpr int kPathMax = 4096;
char g_resolved[kPathMax];  // the program's resolved path (static: no stack pressure)
int g_proc_self = -1;       // O_DIRECTORY fd of /proc/<our pid> on a verified procfs

bool is_procfs(int fd) {
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

// This process's /proc entry: the one stashed before pivot_root, or (exec, no rootfs
// setup) the current /proc, which must then be a real procfs.
int proc_self() {
  if (g_proc_self >= 0) return g_proc_self;
  g_proc_self = open("/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (g_proc_self < 0) die("lsm label", "/proc/self", errno);
  if (!is_procfs(g_proc_self)) die("lsm label", "/proc is not procfs", EINVAL);
  return g_proc_self;
}

void set_rlimits(const ProcessSpec *proc) {
  for (uint32_t i = 0; i < proc->n_rlimits; i++) {
    const Rlimit &r = proc->rlimits[i];
    struct rlimit64 lim = {r.soft, r.hard};
    child_set_index(i);
    if (prlimit64(0, (__rlimit_resource)r.resource, &lim, nullptr) < 0) die("setrlimit", "", errno);
  }
  child_set_index(kNoIndex);
}

void set_scheduler(const ProcessSpec *proc) {
  struct sched_attr attr = {};
  attr.size = sizeof attr;
  attr.sched_policy = proc->sched_policy;
  attr.sched_flags = proc->sched_flags;
  attr.sched_nice = proc->sched_nice;
  attr.sched_priority = (uint32_t)proc->sched_priority;
  attr.sched_runtime = proc->sched_runtime;
  attr.sched_deadline = proc->sched_deadline;
  attr.sched_period = proc->sched_period;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) die("sched_setattr", "process.scheduler", errno);
}

// Write an LSM exec label through this process's own attr file (relative to /proc/self).
void set_lsm_label(const char *file, const char *prefix, const char *label) {
  char buf[1024];
  str_copy(buf, sizeof buf, prefix);
  if (!str_append(buf, sizeof buf, label)) die("lsm label", label, ENAMETOOLONG);
  int err = write_file_at(proc_self(), file, buf, str_len(buf));
  if (err) die2("lsm label", "/proc/self/", file, err);
}

void drop_bounding_set(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die("capbset drop", "", errno);
  }
}

void set_capabilities(const ProcessSpec *proc) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = (uint32_t)proc->cap_effective;
  data[1].effective = (uint32_t)(proc->cap_effective >> 32);
  data[0].permitted = (uint32_t)proc->cap_permitted;
  data[1].permitted = (uint32_t)(proc->cap_permitted >> 32);
  data[0].inheritable = (uint32_t)proc->cap_inheritable;
  data[1].inheritable = (uint32_t)(proc->cap_inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) die("capset", "process.capabilities", errno);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int cap = 0; cap < 64; cap++) {
    if (!(proc->cap_ambient & (1ULL << cap))) continue;
    // Raising needs the capability in both permitted and inheritable; like runc, a
    // capability that cannot be made ambient is left out rather than failing the start.
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
  }
}

void set_user(const ProcessSpec *proc) {
  if (proc->set_groups) {
    if (sys_setgroups(proc->n_additional_gids, (const gid_t *)proc->additional_gids) < 0)
      die("setgroups", "process.user.additionalGids", errno);
  }
  if (sys_setresgid(proc->gid, proc->gid, proc->gid) < 0) die("setresgid", "process.user.gid", errno);
  if (sys_setresuid(proc->uid, proc->uid, proc->uid) < 0) die("setresuid", "process.user.uid", errno);
}

// The working directory is resolved inside the container's root, never through a /proc
// magic link such as /proc/self/fd/N naming a host directory (CVE-2024-21626 class). It is
// opened before a seccomp profile is loaded (which may deny what this needs, getcwd say) and
// entered after the user change, so the search permission is checked for the right user.
int open_cwd(const char *cwd) {
  if (kWeakenFds) return -1;
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die("chdir", cwd, errno);
  int fd = sys_openat2(root, cwd, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  int err = errno;
  close(root);
  if (fd < 0) die("chdir", cwd, err);
  return fd;
}

void change_directory(const char *cwd, int cwd_fd) {
  if (cwd_fd < 0) {
    if (chdir(cwd) < 0) die("chdir", cwd, errno);
    return;
  }
  if (fchdir(cwd_fd) < 0) die("chdir", cwd, errno);
  close(cwd_fd);
}

// execvp-style lookup of argv[0] in PATH, as the final user. Fills g_resolved.
// Real and effective ids are equal by now, so the flagless faccessat(2) checks for the
// right user. It is called raw: glibc's faccessat tries faccessat2 first, which a seccomp
// profile loaded earlier may deny with EPERM instead of ENOSYS, leaving no fallback.
int may_execute(const char *path) { return (int)syscall(SYS_faccessat, AT_FDCWD, path, X_OK); }

void look_up_program(const ProcessSpec *proc) {
  const char *name = proc->exec_path ? proc->exec_path : proc->argv[0];
  bool has_slash = false;
  for (const char *c = name; *c; c++) has_slash |= *c == '/';
  struct stat st;
  if (has_slash) {
    if (!str_copy(g_resolved, sizeof g_resolved, name)) die("exec", name, ENAMETOOLONG);
    if (stat(g_resolved, &st) < 0) die("exec-stat", name, errno);
    if (S_ISDIR(st.st_mode)) die("exec-access", name, EACCES);
    if (may_execute(g_resolved) < 0) die("exec-access", name, errno);
    return;
  }
  if (!*name) die("exec-lookup", name, ENOENT);
  const char *path = proc->path_env ? proc->path_env : "";
  int denied = 0;
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
      if (stat(g_resolved, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) {
        if (may_execute(g_resolved) == 0) return;
        denied = errno;
      }
    }
    if (!*end) break;
    path = end + 1;
  }
  if (denied) die("exec-access", name, denied);
  die("exec-lookup", name, ENOENT);
}

char g_passwd[65536];  // the container's /etc/passwd (static: no stack pressure, no malloc)
char g_home[4096 + 6];

// HOME for a config that does not set it, as runc does: the home directory of the
// process's uid in the container's /etc/passwd (resolved inside the root), else "/".
void fill_home(const ProcessSpec *proc) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = root < 0 ? -1 : sys_openat2(root, "etc/passwd", O_RDONLY | O_CLOEXEC, 0,
                                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (root >= 0) close(root);
  if (fd < 0) return;  // no passwd file: the "HOME=/" placeholder stays
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, g_passwd + len, sizeof g_passwd - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
    if (len == sizeof g_passwd - 1) break;
  }
  close(fd);
  g_passwd[len] = 0;
  char uid[16];
  fmt_u64(uid, sizeof uid, proc->uid);
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
      if (str_append(g_home, sizeof g_home, field[5])) ((const char **)proc->envp)[proc->home_slot] = g_home;
      return;
    }
    if (!saved) break;
    line = end + 1;
  }
}

void load_seccomp(const ProcessSpec *proc) {
  struct sock_fprog prog = {};
  prog.len = (unsigned short)proc->seccomp_len;
  prog.filter = (struct sock_filter *)proc->seccomp_bpf;
  // A filter with notify rules needs a listener fd, which goes to the runtime and from
  // there to the seccomp agent.
  unsigned flags = proc->seccomp_flags | (proc->seccomp_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  int rc = sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) die("seccomp", "linux.seccomp", errno);
  if (proc->seccomp_notify) {
    if (!send_msg_fd(MSG_SECCOMP_FD, rc, "seccomp")) die("seccomp", "send the listener fd", errno);
    close(rc);
  }
}

}  // namespace

void stash_proc_self() {
  if (g_proc_self >= 0) return;
  int fd = open("/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  // Without a usable host procfs, fall back to checking the container's at write time.
  if (fd >= 0 && !is_procfs(fd)) {
    close(fd);
    fd = -1;
  }
  g_proc_self = fd;
}

void apply_process_attributes(const ProcessSpec *proc) {
  set_rlimits(proc);
  if (proc->personality >= 0 && personality((unsigned long)proc->personality) < 0)
    die("personality", "linux.personality", errno);
  if (proc->has_scheduler) set_scheduler(proc);
  if (proc->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, proc->ioprio) < 0)
    die("ioprio_set", "process.ioPriority", errno);
}

void finalize_and_exec(const Plan *p) {
  const ProcessSpec *proc = &p->process;
  // Still root with every capability: the container's /etc/passwd is readable whatever its mode.
  if (proc->home_slot >= 0) fill_home(proc);
  if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die("prctl", "no_new_privs", errno);
  if (proc->apparmor_profile) {
    // Newer kernels expose the AppArmor-specific file; fall back to the shared one.
    if (faccessat(proc_self(), "attr/apparmor/exec", F_OK, 0) == 0)
      set_lsm_label("attr/apparmor/exec", "exec ", proc->apparmor_profile);
    else
      set_lsm_label("attr/exec", "exec ", proc->apparmor_profile);
  }
  if (proc->selinux_label) set_lsm_label("attr/exec", "", proc->selinux_label);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the user
  // change drops it. With no_new_privs, as late as possible (runc's order).
  bool seccomp_early = proc->seccomp_bpf && !proc->no_new_privileges;
  const char *cwd = proc->cwd ? proc->cwd : "/";
  int cwd_fd = open_cwd(cwd);
  if (seccomp_early) load_seccomp(proc);

  if (proc->set_caps) drop_bounding_set(proc->cap_bounding);
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  set_user(proc);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (proc->set_caps) set_capabilities(proc);
  umask(proc->umask >= 0 ? (mode_t)proc->umask : 022);
  change_directory(cwd, cwd_fd);
  look_up_program(proc);
  proc->stub_argv[2] = g_resolved;

  if (proc->seccomp_bpf && !seccomp_early) load_seccomp(proc);

  // Only stdio, the preserved fds, the fifo the stub waits on, the stub itself and the
  // sync socket (close-on-exec: its EOF tells the parent the stub is running) survive.
  int keep[3] = {proc->exec_fifo_fd, proc->stub_fd, child_sync_fd()};
  if (!kWeakenFds) close_fds_except(3 + (int)proc->preserve_fds, keep, 3);
  if (proc->exec_fifo_fd >= 0) {
    int err = make_inheritable(proc->exec_fifo_fd);
    if (err) die("exec fifo", "", err);
  }
  if (!send_msg(MSG_READY, 0, 0, "ready", "")) _exit(1);
  sys_execveat(proc->stub_fd, "", proc->stub_argv, proc->envp, AT_EMPTY_PATH);
  int err = errno;
  // A seccomp profile may deny execveat but allow execve.
  FdPath via_proc(proc->stub_fd);
  execve(via_proc.c_str(), (char *const *)proc->stub_argv, (char *const *)proc->envp);
  die("exec", "tsrunc-init", err);
}

}  // namespace tsr
