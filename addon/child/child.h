// The child side of clone(): everything that runs between clone() and execve().
//
// Rules for every file in addon/child/: async-signal-safe code only. Raw system calls,
// stack buffers of fixed size, data read from the Plan. No malloc/new, no std::string or
// containers, no printf, no locks, no exceptions. On failure a step calls die(), which
// reports {step, detail, errno} to the parent over the sync socket and exits.
#pragma once

#include "../common/plan.h"

namespace tsr {

// ---- report.cc ----
constexpr uint32_t kNoIndex = 0xffffffffu;
void child_set_sync_fd(int fd);
// The plan entry (mount, device, masked path...) the current step works on, for errors.
void child_set_index(uint32_t index);
int child_sync_fd();
bool send_msg(uint32_t type, int err, int pid, const char *step, const char *detail);
// Send a message with one file descriptor attached (SCM_RIGHTS).
bool send_msg_fd(uint32_t type, int fd, const char *step);
// Block until the parent answers; returns the message type (0 on EOF/error).
uint32_t wait_parent();
// Report failure and _exit(1).
[[noreturn]] void die(const char *step, const char *detail, int err);
// Report failure naming "<a><b>" as detail.
[[noreturn]] void die2(const char *step, const char *a, const char *b, int err);

// ---- fds.cc ----
// Close every descriptor from keep_below up, except the ones in keep[] (unsorted; -1 and
// entries below keep_below are ignored).
void close_fds_except(int keep_below, const int *keep, int n);
// Make fd usable by the program: no FD_CLOEXEC, blocking.
int make_inheritable(int fd);

// ---- stage1.cc ----
// First child: join/create namespaces, then fork the container process (the second child,
// a sibling under the runtime via CLONE_PARENT). Never returns.
[[noreturn]] void run_stage1(const Plan *plan);

// ---- stage2.cc ----
// Second child: set up the container (init) or the exec'd process, then execve. Never returns.
[[noreturn]] void run_stage2(const Plan *plan);

// ---- inroot.cc: path resolution that cannot leave the root ----
// Open `path` (absolute, container view) under root_fd with RESOLVE_IN_ROOT; O_PATH fd or -errno.
int open_in_root(int root_fd, const char *path, int extra_flags);
// The same with more RESOLVE_* flags (RESOLVE_NO_SYMLINKS: no symlink at all on the way).
int open_in_root_flags(int root_fd, const char *path, int extra_flags, uint64_t extra_resolve);
// Create missing directories of `path` under root_fd (and the final file when create_file),
// without ever following a symlink out of the root. O_PATH fd of the target or -errno.
int mkdir_all_in_root(int root_fd, const char *path, bool create_file, unsigned mode);

// ---- rootfs.cc ----
// Mounts, devices and symlinks, hooks pause, pivot_root. Dies on failure.
void setup_rootfs(const Plan *plan);
// After pivot_root: read-only mounts deferred until now, read-only root.
void finalize_rootfs(const Plan *plan);
// After pivot_root, in runc's order: sysctls, read-only paths, masked paths.
void apply_sysctls(const Plan *plan);
void apply_readonly_paths(const Plan *plan);
void apply_masked_paths(const Plan *plan);
// After pivot_root: stdio on the host's /dev/null moved to the container's /dev/null.
void reopen_dev_null(const Plan *plan);
// linux.rootfsPropagation on the container's "/", once everything else is mounted.
void apply_root_propagation(const Plan *plan);

// ---- console.cc ----
// Make the pty inside the container, send the master to the console socket, and make the
// slave the controlling terminal on fds 0-2.
void setup_console(const ProcessSpec *proc, bool bind_dev_console);

// ---- process.cc ----
// Open this process's /proc/<pid> directory on the host's procfs while it is still
// reachable (before pivot_root), for the LSM label writes.
void stash_proc_self();
// Process attributes that need privileges: rlimits, scheduler, I/O priority, personality.
void apply_process_attributes(const ProcessSpec *proc);
// User, groups, capabilities, cwd, no_new_privs, seccomp; then exec through the stub.
[[noreturn]] void finalize_and_exec(const Plan *plan);

}  // namespace tsr
