// Entry of tsrunc-child (start.cc calls child_main with the initial stack's argv):
//
//   tsrunc-child plan PLAN_FD SYNC_FD STUB_FD    set up a container process (spawn.cc)
//   tsrunc-child park PARENT_PID                 sit in the user namespace it was cloned
//                                                into until killed (idmap.cc)
//
// The arguments are fixed by the addon; nothing in them comes from a config.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>

#include "child.h"
#include "weaken.h"

namespace tsr {

Launch g_launch = {-1, -1};

namespace {

// Exit statuses before a report can be sent.
constexpr int kUsage = 125;

// Every disposition back to default and nothing blocked: the runtime (Node ignores SIGPIPE
// and SIGXFSZ) and the clone (which blocks everything) must leave no trace in the container.
long reset_signals() {
  KSigaction dfl = {};
  dfl.handler = SIG_DFL;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    long rc = sys::rt_sigaction(sig, &dfl);
    if (rc < 0) return rc;
  }
  return sys::rt_sigprocmask_setmask(0);
}

[[noreturn]] void run_plan(int plan_fd, int sync, int stub) {
  report_init(sync);
  g_launch.sync_fd = sync;
  g_launch.stub_fd = stub;
  check(reset_signals(), Step::SIGNALS);
  // These two close when the stub is executed: the runtime takes the sync socket's EOF as
  // the sign that the setup is over.
  check(sys::fcntl(sync, F_SETFD, FD_CLOEXEC), Step::PLAN_FD);
  check(sys::fcntl(stub, F_SETFD, FD_CLOEXEC), Step::PLAN_FD);
  const Plan *p = load_plan(plan_fd);

  // Every descriptor the plan names must be there; nothing else may be.
  auto must_be_open = [](long fd, proto::Field field) {
    if (sys::fcntl((int)fd, F_GETFD, 0) < 0) die_at(Step::PLAN_FD, EBADF, (uint32_t)field);
  };
  proto::for_each_fd(*p, must_be_open);
  if (!kWeakenFds) {
    close_fds_except(3 + (int)p->process.preserve_fds, [p](auto &visit) {
      visit(g_launch.sync_fd);
      visit(g_launch.stub_fd);
      auto keep = [&visit](long fd, proto::Field) { visit(fd); };
      proto::for_each_fd(*p, keep);
    });
  }
  run_stage1(p);
}

[[noreturn]] void park(long parent) {
  if (reset_signals() < 0) sys::exit_group(kUsage);
  if (sys::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || sys::getppid() != parent) sys::exit_group(kUsage);
  for (;;) sys::pause();
}

}  // namespace

extern "C" int child_main(int argc, char **argv) {
  if (argc == 5 && str_eq(argv[1], "plan")) {
    int plan = parse_number(argv[2]), sync = parse_number(argv[3]), stub = parse_number(argv[4]);
    if (plan >= 0 && sync >= 0 && stub >= 0) run_plan(plan, sync, stub);
  }
  if (argc == 3 && str_eq(argv[1], "park") && parse_number(argv[2]) > 0) park(parse_number(argv[2]));
  static const char usage[] = "tsrunc-child: started by the runtime only\n";
  sys::write(2, usage, sizeof usage - 1);
  return kUsage;
}

}  // namespace tsr
