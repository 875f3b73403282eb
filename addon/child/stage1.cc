// Stage 1: the first child of the runtime, still single-threaded copy of Node.
//
// setns(2) into user and mount namespaces is refused to multi-threaded processes, and a
// new PID namespace only applies to children of the caller. So, as runc's nsexec does,
// this stage joins the namespaces given by path, creates the user namespace (and lets the
// parent write the id maps and place it in the cgroups), unshares the other namespaces,
// and then forks the real container process with CLONE_PARENT so that it is the runtime's
// child (waitable with a pidfd) and PID 1 of the new PID namespace.
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"
#include "weaken.h"

namespace tsr {

namespace {

// fork()-like clone3: the child continues on a copy of this stack.
long clone3_fork(uint64_t flags) {
  struct clone_args args;
  memset(&args, 0, sizeof args);  // memset on a stack struct is async-signal-safe in practice
  args.flags = flags;
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  return syscall(SYS_clone3, &args, sizeof args);
}

void join_namespaces(const Plan *p) {
  if (p->join_pidfd >= 0) {
    if (sys_setns(p->join_pidfd, (int)p->join_pidfd_flags) < 0)
      die("setns", "the container's namespaces", errno);
  }
  for (uint32_t i = 0; i < p->n_joins; i++) {
    const NsJoin &j = p->joins[i];
    if (sys_setns(j.fd, j.nstype) < 0) die("setns", j.path, errno);
    close(j.fd);
  }
}

void write_timens_offsets(const char *text) {
  // The /proc/self files of a non-dumpable process belong to the host's root, who is not
  // mapped in a new user namespace: be dumpable just for this write (no container process
  // exists yet that could look at us).
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  int err = write_file_at(AT_FDCWD, "/proc/self/timens_offsets", text, str_len(text));
  if (!kWeakenExe) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (err) die("timens_offsets", "/proc/self/timens_offsets", err);
}

}  // namespace

void run_stage1(const Plan *p) {
  child_set_sync_fd(p->sync_fd);
  pid_t runtime_pid = getppid();
  // If the runtime dies while we set up, so do we.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != runtime_pid) _exit(1);
  if (!kWeakenExe) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // oom_score_adj is inherited by the fork below; write it while the host /proc is ours.
  if (p->process.has_oom_score_adj) {
    char num[24];
    fmt_i64(num, sizeof num, p->process.oom_score_adj);
    int err = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", num, str_len(num));
    if (err) die("oom_score_adj", num, err);
  }

  join_namespaces(p);

  if (p->new_userns) {
    if (sys_unshare(CLONE_NEWUSER) < 0) die("unshare", "user namespace", errno);
    // The parent writes our id maps next, itself or (rootless) through newuidmap/newgidmap,
    // which insist that /proc/<pid> is the user's: a non-dumpable process's belongs to the
    // host's root. Dumpable until the maps are written, as runc's nsexec is; nothing of
    // the container runs yet.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  }

  if (p->stage1_sync) {
    if (!send_msg(MSG_STAGE1, 0, 0, "stage1", "")) _exit(1);
    uint32_t reply = wait_parent();
    if (reply != MSG_GO) _exit(1);
  }
  if (p->new_userns && !kWeakenExe) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  bool joined_userns = (p->join_pidfd >= 0 && (p->join_pidfd_flags & CLONE_NEWUSER));
  for (uint32_t i = 0; i < p->n_joins; i++) joined_userns |= p->joins[i].nstype == CLONE_NEWUSER;
  if (p->new_userns || joined_userns) {
    // Become root of the user namespace (for a new one, the parent has just written the maps).
    if (sys_setresgid(0, 0, 0) < 0) die("setresgid", "0 in the new user namespace", errno);
    if (sys_setresuid(0, 0, 0) < 0) die("setresuid", "0 in the new user namespace", errno);
    // setresuid cleared the death signal.
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  }

  if (p->unshare_flags && sys_unshare((int)p->unshare_flags) < 0)
    die("unshare", "namespaces", errno);

  if (p->timens_offsets) write_timens_offsets(p->timens_offsets);

  long pid = clone3_fork(CLONE_PARENT);
  if (pid < 0) die("clone", "container process", errno);
  if (pid == 0) run_stage2(p);

  send_msg(MSG_INIT_PID, 0, (int)pid, "stage1", "");
  _exit(0);
}

}  // namespace tsr
