// spawn(plan): the only place the runtime forks a child that will become a container
// process. Everything the child needs is prepared here, before clone3().
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../child/child.h"
#include "../child/weaken.h"
#include "napi_util.h"
#include "plan_convert.h"

namespace tsr {

namespace {

// Copy tsrunc-init into a sealed memfd. The container can see this file as
// /proc/<pid>/exe but can never write it, and it is gone when the last user exits.
int make_stub_memfd(const std::string &path, std::string &error) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    error = "open " + path + ": " + strerror(errno);
    return -1;
  }
  // Test-only weakened build (CVE-2019-5736 regression test): execute the host file itself.
  if (kWeakenExe) return src;
  struct stat st;
  if (fstat(src, &st) < 0) {
    error = "stat " + path + ": " + strerror(errno);
    close(src);
    return -1;
  }
  int mfd = memfd_create("tsrunc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) {
    error = std::string("memfd_create: ") + strerror(errno);
    close(src);
    return -1;
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) {
      error = "copy " + path + " into a memfd: " + strerror(n < 0 ? errno : EIO);
      close(src);
      close(mfd);
      return -1;
    }
  }
  close(src);
  if (fchmod(mfd, 0555) < 0 ||
      fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    error = std::string("seal the tsrunc-init memfd: ") + strerror(errno);
    close(mfd);
    return -1;
  }
  return mfd;
}

}  // namespace

// spawn(plan) -> { pid, pidfd, syncFd }
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return throw_type(env, "spawn(plan): plan must be an object");
  PlanStorage storage;
  if (!convert_plan(env, info[0].As<Napi::Object>(), storage)) return env.Undefined();

  std::string error;
  int stub = make_stub_memfd(storage.stub_path, error);
  if (stub < 0) return throw_error(env, error);
  storage.plan.process.stub_fd = stub;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    close(stub);
    return throw_errno(env, errno, "socketpair");
  }
  storage.plan.sync_fd = sv[1];

  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    // Child: from here on only async-signal-safe code (addon/child/).
    close(sv[0]);
    run_stage1(&storage.plan);
  }
  int err = errno;
  close(sv[1]);
  close(stub);
  if (pid < 0) {
    close(sv[0]);
    return throw_errno(env, err, "clone3");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, (double)pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  out.Set("syncFd", Napi::Number::New(env, sv[0]));
  return out;
}

}  // namespace tsr
