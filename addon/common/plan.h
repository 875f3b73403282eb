// The flat, fully resolved plan the child walks, and the parent/child wire protocol.
//
// TypeScript turns config.json into a ProcessPlan object; the parent side of the addon
// (addon/parent/plan_convert.cc) copies it into these plain structs before clone(). The
// child receives a copy-on-write image of this memory and only reads it: no allocation,
// no parsing, no C++ runtime. Every pointer here stays valid in the child because the
// parent keeps the backing storage alive until the spawn call returns.
#pragma once

#include <stdint.h>

namespace tsr {

struct IdMap {
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

// A namespace to join: the parent opened `path` before the fork.
struct NsJoin {
  int fd;
  int nstype;        // CLONE_NEW* constant
  const char *path;  // for error messages
};

enum MountKind : uint32_t {
  MOUNT_FS = 0,      // mount(source, target, fstype, flags, data)
  MOUNT_BIND = 1,    // bind (MS_REC in flags for rbind), then remount with remount_flags
  MOUNT_MOVE = 2,    // reserved
};

enum CreateKind : uint32_t {
  CREATE_DIR = 0,
  CREATE_FILE = 1,
};

struct Mount {
  uint32_t kind;           // MountKind
  uint32_t create;         // CreateKind: what to create at the target when missing
  const char *source;      // fs source, or the absolute host path for bind mounts
  const char *dest;        // absolute path inside the container (resolved in the rootfs)
  const char *fstype;      // NULL for bind mounts
  const char *data;        // filesystem-specific options, NULL when none
  unsigned long flags;     // MS_* for mount(2) (bind: only MS_BIND|MS_REC matter)
  // Applied with mount_setattr(2) on the new mount afterwards (MOUNT_ATTR_* values):
  uint64_t attr_set, attr_clr;    // this mount only (bind options such as ro, nosuid)
  uint64_t rattr_set, rattr_clr;  // recursively (rro, rnosuid, ...)
  uint32_t propagation;    // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 = leave
  uint32_t propagation_recursive;
  uint32_t late_readonly;  // make read-only only after every mount and device is in place
  uint32_t tmpcopyup;      // tmpfs: copy the original directory's content up into it
  // >= 0: a detached mount the runtime prepared before the fork (an id-mapped clone of the
  // source, made where the host's file systems can be id-mapped); moved onto the target.
  int mount_fd;
  // The target path may not go through any symlink, not even one inside the rootfs
  // (procfs and sysfs: CVE-2019-16884), and must be a directory.
  uint32_t target_no_symlinks;
  // The target may lie on a procfs: a proc mount at /proc, or one of the /proc files
  // lxcfs-style tools replace. Any other mount whose target resolves into a procfs is
  // refused (a symlinked volume over /proc: CVE-2019-19921).
  uint32_t may_cover_proc;
};

struct Device {
  const char *path;        // absolute path inside the container
  uint32_t mode;           // S_IFCHR/S_IFBLK/S_IFIFO | permission bits
  uint32_t major, minor;
  uint32_t uid, gid;
  uint32_t bind_from_host; // in a user namespace mknod is refused: bind the host node instead
  uint32_t replace_existing;  // default devices replace what the image has; configured ones
                              // must not find a different file there (config-linux.md)
  const char *host_path;   // source for bind_from_host
};

struct Symlink {
  const char *target;      // what the link points to
  const char *path;        // absolute link path inside the container
};

struct Rlimit {
  int resource;
  uint64_t soft, hard;
};

struct KeyValue {
  const char *key;
  const char *value;
};

// What the container's (or exec'd) process finally becomes.
struct ProcessSpec {
  const char *const *argv;       // NULL-terminated; argv[0] is the program as given
  const char *exec_path;         // program to run; NULL: look argv[0] up in PATH
  const char *const *envp;       // NULL-terminated
  const char *path_env;          // value of PATH used to look argv[0] up, may be NULL
  int home_slot;                 // index in envp of a "HOME=/" placeholder to fill from the
                                 // container's /etc/passwd (-1: the config sets HOME)
  const char *cwd;               // absolute, resolved inside the container root
  uint32_t uid, gid;
  int umask;                     // -1: leave unchanged
  const uint32_t *additional_gids;
  uint32_t n_additional_gids;
  uint32_t set_groups;           // 0 when setgroups(2) is denied (rootless user namespace)
  uint32_t set_caps;             // apply the capability sets below
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  uint32_t no_new_privileges;
  const Rlimit *rlimits;
  uint32_t n_rlimits;
  int oom_score_adj;
  uint32_t has_oom_score_adj;
  // Seccomp: BPF exported by libseccomp in the parent.
  const void *seccomp_bpf;       // struct sock_filter[]
  uint32_t seccomp_len;          // number of sock_filter instructions
  uint32_t seccomp_flags;        // SECCOMP_FILTER_FLAG_*
  uint32_t seccomp_notify;       // send the listener fd to the parent
  // Terminal.
  uint32_t terminal;
  int console_socket_fd;         // connected unix socket to send the pty master to, -1 if none
  uint16_t console_rows, console_cols;
  // Stdio and inherited descriptors.
  int stdio_fds[3];              // fds to install as 0,1,2 (-1: keep what is there)
  uint32_t preserve_fds;         // keep 3 .. 3+preserve_fds-1
  // The sealed memfd holding tsrunc-init; every program in a container is executed
  // through it so /proc/self/exe never names a writable host binary.
  int stub_fd;
  // argv for the stub: {"tsrunc-init", "<exec_fifo_fd or -1>", <resolved path>, argv...}.
  // Slot 2 is filled in by the child once it has looked the program up.
  const char **stub_argv;
  int exec_fifo_fd;              // create: the stub blocks reading this before exec; -1 for exec
  // Misc process attributes.
  int personality;               // -1: leave
  uint32_t has_scheduler;
  uint32_t sched_policy;
  int32_t sched_nice, sched_priority;
  uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
  uint32_t has_ioprio;
  int ioprio;                    // IOPRIO_PRIO_VALUE(class, level)
  const char *apparmor_profile;  // written to /proc/self/attr/apparmor/exec (or attr/exec)
  const char *selinux_label;     // written to /proc/self/attr/exec
  const uint64_t *cpu_affinity;  // final exec CPU affinity mask words, NULL when none
  uint32_t cpu_affinity_words;
};

struct Plan {
  // ---- stage 1: the first child, still in the runtime's namespaces ----
  const NsJoin *joins;           // user namespace first
  uint32_t n_joins;
  int join_pidfd;                // exec: join every namespace of this pidfd at once (-1: none)
  uint32_t join_pidfd_flags;     // CLONE_NEW* set for the pidfd join
  uint32_t new_userns;
  uint64_t unshare_flags;        // CLONE_NEW* except CLONE_NEWUSER
  const char *timens_offsets;    // text for /proc/self/timens_offsets, NULL if none
  int sync_fd;                   // child's end of the SOCK_SEQPACKET socketpair
  uint32_t stage1_sync;          // ask the parent to write id maps / place in cgroups

  // ---- container init only (create) ----
  uint32_t is_init;
  const char *rootfs;            // absolute host path of the root filesystem
  unsigned long rootfs_propagation;  // applied to "/" before mounting; 0 = MS_SLAVE|MS_REC
  uint32_t setup_mounts;         // there is a new mount namespace to prepare
  uint32_t no_pivot;
  const Mount *mounts;
  uint32_t n_mounts;
  const Device *devices;
  uint32_t n_devices;
  const Symlink *symlinks;
  uint32_t n_symlinks;
  uint32_t hooks_sync;           // pause before pivot_root so the parent can run hooks
  const char *const *masked_paths;
  uint32_t n_masked_paths;
  const char *const *readonly_paths;
  uint32_t n_readonly_paths;
  uint32_t root_readonly;
  const char *hostname;          // NULL: leave
  const char *domainname;
  const KeyValue *sysctls;       // key already in path form: "net/ipv4/ip_forward"
  uint32_t n_sysctls;
  uint32_t new_session_keyring;
  const char *keyring_name;
  const char *mount_label;       // reserved for SELinux mount contexts

  ProcessSpec process;
};

// ---- wire protocol: fixed-size SOCK_SEQPACKET messages ----

enum MsgType : uint32_t {
  MSG_STAGE1 = 1,     // child -> parent: in its new user namespace; write maps, place in cgroups
  MSG_GO = 2,         // parent -> child: continue
  MSG_INIT_PID = 3,   // stage 1 -> parent: the second child exists; pid = its host pid
  MSG_HOOKS = 4,      // child -> parent: mounts done, run prestart/createRuntime/createContainer
  MSG_READY = 5,      // child -> parent: all set up; about to exec (the stub, or the program)
  MSG_ERROR = 6,      // child -> parent: step failed; errno and detail filled in
  MSG_SECCOMP_FD = 7, // child -> parent: seccomp listener fd attached (SCM_RIGHTS)
  MSG_CONSOLE = 8,    // child -> parent: pty master sent on the console socket
  MSG_ABORT = 9,      // parent -> child: give up (a hook failed); the child exits
};

constexpr int kStepLen = 32;
constexpr int kDetailLen = 480;

struct Msg {
  uint32_t type;
  int32_t err;                 // errno for MSG_ERROR
  int32_t pid;                 // MSG_INIT_PID
  uint32_t index;               // which plan entry (mount, device, ...) the step was on
  char step[kStepLen];         // short step name, e.g. "mount", "pivot_root", "exec"
  char detail[kDetailLen];     // path or value the step worked on
};

}  // namespace tsr
