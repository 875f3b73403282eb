// tsrunc-child: the program every container process, exec'd process and container-namespace
// hook starts as. The runtime's addon executes it from a sealed memfd right after a
// vfork-style clone (addon/parent/spawn.cc), with an empty environment and only the
// descriptors it is given; it reads the plan, and walks it:
//
//   main.cc     arguments, signal dispositions, the plan (plan.cc), descriptors
//   stage1.cc   namespaces to join or create, the fork of the container process
//   stage2.cc   the container process: rootfs.cc, console.cc, process.cc, in runc's order
//
// Rules for every file here: the system calls of sys.h only, each result checked (a failure
// is reported as {step, errno, index} by report.cc and ends the program), fixed-size
// buffers, no allocation, no libc.
#pragma once

#include "inroot.h"
#include "plan.h"
#include "report.h"
#include "sys.h"
#include "util.h"

namespace tsr {

// What the program was given besides the plan.
struct Launch {
  int sync_fd;
  int stub_fd;  // sealed memfd holding tsrunc-init
};
extern Launch g_launch;

// ---- fds ----
// Close a descriptor of our own; a failure is reported as `step`.
inline void close_checked(long fd, Step step) { check(sys::close((int)fd), step); }
// Write all of `text` to fd (a knob in procfs, an LSM attribute); failures reported as `step`.
void write_all_checked(int fd, const char *text, Step step);
// Closes every descriptor from keep_below up except those each(visit) passes to visit.
template <typename Each>
void close_fds_except(int keep_below, Each each) {
  long cursor = keep_below;
  for (;;) {
    long next = -1;
    auto visit = [&](long fd) {
      if (fd >= cursor && (next < 0 || fd < next)) next = fd;
    };
    each(visit);
    if (next < 0) {
      check(sys::close_range((unsigned)cursor, ~0u, 0), Step::CLOSE_FDS);
      return;
    }
    if (next > cursor) check(sys::close_range((unsigned)cursor, (unsigned)next - 1, 0), Step::CLOSE_FDS);
    cursor = next + 1;
  }
}
// fd usable by the program: no close-on-exec, blocking. 0 or -errno.
long make_inheritable(int fd);

// ---- stage1.cc / stage2.cc ----
[[noreturn]] void run_stage1(const Plan *plan);
[[noreturn]] void run_stage2(const Plan *plan);

// ---- rootfs.cc ----
void setup_rootfs(const Plan *plan);      // mounts, devices, symlinks, hooks pause, pivot_root
void finalize_rootfs(const Plan *plan);   // deferred read-only mounts, read-only root
void apply_sysctls(const Plan *plan);
void apply_readonly_paths(const Plan *plan);
void apply_masked_paths(const Plan *plan);
// After pivot_root: stdio left on the host's /dev/null moved to the container's /dev/null.
void reopen_dev_null(const Plan *plan);
void apply_root_propagation(const Plan *plan);

// ---- console.cc ----
void setup_console(const Process &proc, bool bind_dev_console);

// ---- process.cc ----
// This process's /proc/<pid> on the host's procfs, kept for the LSM label writes.
void stash_proc_self();
void apply_process_attributes(const Process &proc);  // rlimits, personality, scheduler, I/O priority, memory policy
// Before any namespace is joined or created, while the capabilities of the initial user
// namespace are still ours: the scheduler (a real-time policy needs CAP_SYS_NICE there; the
// fork of stage 2 inherits it) and an exec's initial CPU affinity.
void apply_early_attributes(const Process &proc);
// An exec's final CPU affinity, right before the program runs.
void apply_final_affinity(const Process &proc);
// ---- network.cc ----
void bring_loopback_up();
[[noreturn]] void finalize_and_exec(const Plan *plan);

}  // namespace tsr
