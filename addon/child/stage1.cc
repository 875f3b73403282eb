// Stage 1: the program as the runtime started it, still in the runtime's namespaces.
//
// setns(2) into user and mount namespaces needs a single-threaded process, and a new PID
// namespace only applies to children of the caller. So, as runc's nsexec does, this stage
// joins the namespaces given by path (or all of a container's, by pidfd), creates the user
// namespace (the runtime writes its id maps and places it in the cgroups meanwhile),
// unshares the other namespaces, and forks the container process with CLONE_PARENT so that
// it is the runtime's child (waitable with a pidfd) and PID 1 of a new PID namespace.
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include "child.h"
#include "weaken.h"

namespace tsr {

namespace {

void write_proc_self(const char *file, const char *text, Step step) {
  long fd = check(sys::openat(AT_FDCWD, file, O_WRONLY | O_CLOEXEC, 0), step);
  write_all_checked((int)fd, text, step);
  close_checked(fd, step);
}

void join_namespaces(const Plan *p) {
  // Each descriptor is closed once joined: the container process must not inherit one.
  if (p->join_pidfd >= 0) {
    check(sys::setns(p->join_pidfd, (int)p->join_pidfd_flags), Step::SETNS_PIDFD);
    close_checked(p->join_pidfd, Step::SETNS_PIDFD);
  }
  for (uint32_t i = 0; i < p->joins.count; i++) {
    const NsJoin &j = plan_at(p->joins, i);
    set_index(i);
    check(sys::setns(j.fd, (int)j.nstype), Step::SETNS);
    close_checked(j.fd, Step::SETNS);
  }
  clear_index();
}

bool joins_userns(const Plan *p) {
  bool joined = p->join_pidfd >= 0 && (p->join_pidfd_flags & CLONE_NEWUSER);
  for (uint32_t i = 0; i < p->joins.count; i++) joined |= plan_at(p->joins, i).nstype == CLONE_NEWUSER;
  return joined;
}

void set_dumpable(bool on) {
  if (!on && kWeakenExe) return;
  check(sys::prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0), Step::DUMPABLE);
}

void write_timens_offsets(const char *text) {
  // The /proc/self files of a non-dumpable process belong to the host's root, who is not
  // mapped in a new user namespace: be dumpable just for this write (no container process
  // exists yet that could look at us).
  set_dumpable(true);
  write_proc_self("/proc/self/timens_offsets", text, Step::TIMENS_OFFSETS);
  set_dumpable(false);
}

}  // namespace

void run_stage1(const Plan *p) {
  long runtime = sys::getppid();
  // If the runtime dies while we set up, so do we; and if it already has, stop here.
  check(sys::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), Step::PDEATHSIG);
  if (sys::getppid() != runtime) die(Step::RUNTIME_GONE, ESRCH);
  set_dumpable(false);
  apply_early_attributes(p->process);

  // oom_score_adj is inherited by the fork below; write it while the host /proc is ours.
  if (p->process.has_oom_score_adj) {
    char num[24];
    write_proc_self("/proc/self/oom_score_adj", fmt_i64(num, p->process.oom_score_adj), Step::OOM_SCORE_ADJ);
  }

  join_namespaces(p);
  if (p->new_userns) {
    check(sys::unshare(CLONE_NEWUSER), Step::UNSHARE_USER);
    // The runtime writes our id maps next, itself or (rootless) through newuidmap/newgidmap,
    // which insist that /proc/<pid> is the user's: a non-dumpable process's belongs to the
    // host's root. Dumpable until the maps are written, as runc's nsexec is; nothing of
    // the container runs yet.
    set_dumpable(true);
  }

  if (p->stage1_sync) {
    check(send_msg(MsgType::STAGE1, 0), Step::SYNC_STAGE1);
    check(wait_go(), Step::SYNC_STAGE1);
  }
  if (p->new_userns) set_dumpable(false);

  if (p->new_userns || joins_userns(p)) {
    // Become root of the user namespace (for a new one, the runtime has just written the maps).
    check(sys::setresgid(0, 0, 0), Step::USERNS_ROOT_GID);
    check(sys::setresuid(0, 0, 0), Step::USERNS_ROOT_UID);
    // The credential change cleared the death signal.
    check(sys::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), Step::PDEATHSIG);
  }

  if (p->unshare_flags) check(sys::unshare((int)p->unshare_flags), Step::UNSHARE);
  const char *offsets = str(p->timens_offsets);
  if (offsets) write_timens_offsets(offsets);

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PARENT | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  long pid = check(sys::clone3(&args), Step::CLONE);
  if (pid == 0) run_stage2(p);

  long sent = send_msg(MsgType::INIT_PID, (int)pid);
  if (sent < 0) {
    // The runtime cannot learn of the container process: it must not go on alone.
    sys::pidfd_send_signal(pidfd, SIGKILL);
    die(Step::SYNC_INIT_PID, sent);
  }
  sys::exit_group(0);
}

}  // namespace tsr
