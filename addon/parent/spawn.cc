// spawn(plan, keepFds): the only way the runtime starts a process that will join or become a
// container: the child program (addon/child/, tsrunc-child) from a sealed memfd, with the
// plan in another sealed memfd and one end of a SOCK_SEQPACKET socketpair. The plan's bytes
// come from the generated serializer (src/native/generated/protocol.ts); the program checks
// them before it uses them.
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child_program.h"
#include "napi_util.h"

namespace tsr {

namespace {

// Descriptors this function opened, closed on every way out.
struct OwnedFds {
  std::vector<int> fds;
  int add(int fd) {
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  ~OwnedFds() {
    for (int fd : fds) close(fd);
  }
};

}  // namespace

// spawn(planBytes, keepFds) -> { pid, pidfd, syncFd }
// keepFds: every descriptor the plan names plus the --preserve-fds range; nothing else of
// the runtime's reaches the program.
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsArray())
    return throw_type(env, "spawn(planBytes: Buffer, keepFds: number[])");
  Napi::Buffer<uint8_t> plan = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Array keep_in = info[1].As<Napi::Array>();
  std::vector<int> keep;
  for (uint32_t i = 0; i < keep_in.Length(); i++) {
    Napi::Value v = keep_in.Get(i);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (d < 0 || d > 0x7fffffff || d != (double)(int)d) return throw_type(env, "spawn: keepFds must hold descriptor numbers");
    keep.push_back((int)d);
  }

  OwnedFds owned;
  std::string error;
  std::string dir = programs_dir();
  int program = owned.add(sealed_copy(dir + "/tsrunc-child", "tsrunc-child", true, error));
  int stub = program < 0 ? -1 : owned.add(sealed_copy(dir + "/tsrunc-init", "tsrunc-init", true, error));
  int plan_fd = stub < 0 ? -1 : owned.add(sealed_bytes(plan.Data(), plan.Length(), "tsrunc-plan", error));
  if (plan_fd < 0) return throw_error(env, error);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return throw_errno(env, errno, "socketpair");
  owned.add(sv[1]);

  keep.push_back(plan_fd);
  keep.push_back(sv[1]);
  keep.push_back(stub);
  std::vector<std::string> argv = {"tsrunc-child", "plan", std::to_string(plan_fd), std::to_string(sv[1]), std::to_string(stub)};
  Started started;
  if (!start_program(program, argv, keep, 0, started, error)) {
    close(sv[0]);
    return throw_error(env, error);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, started.pid));
  out.Set("pidfd", Napi::Number::New(env, started.pidfd));
  out.Set("syncFd", Napi::Number::New(env, sv[0]));
  return out;
}

}  // namespace tsr
