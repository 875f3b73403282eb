// N-API module registration. The TypeScript view of these functions, with types, is
// src/native/addon.ts; keep the two in step.
#include <napi.h>

namespace tsr {
Napi::Value Spawn(const Napi::CallbackInfo &info);
Napi::Value PidfdOpen(const Napi::CallbackInfo &info);
Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info);
Napi::Value WaitPidfd(const Napi::CallbackInfo &info);
Napi::Value WaitPidfdAsync(const Napi::CallbackInfo &info);
Napi::Value Poll(const Napi::CallbackInfo &info);
Napi::Value SendFd(const Napi::CallbackInfo &info);
Napi::Value RecvFd(const Napi::CallbackInfo &info);
Napi::Value ConnectUnix(const Napi::CallbackInfo &info);
Napi::Value Pipe(const Napi::CallbackInfo &info);
Napi::Value Memfd(const Napi::CallbackInfo &info);
Napi::Value Flock(const Napi::CallbackInfo &info);
Napi::Value Mkfifo(const Napi::CallbackInfo &info);
Napi::Value StrError(const Napi::CallbackInfo &info);
Napi::Value PrimeCgroupMigration(const Napi::CallbackInfo &info);
Napi::Value CloseFd(const Napi::CallbackInfo &info);
Napi::Value GetWinsize(const Napi::CallbackInfo &info);
Napi::Value SetWinsize(const Napi::CallbackInfo &info);
Napi::Value ClearOnlcr(const Napi::CallbackInfo &info);
// sync.cc
Napi::Value SocketPair(const Napi::CallbackInfo &info);
Napi::Value RecvPacket(const Napi::CallbackInfo &info);
Napi::Value SendMessage(const Napi::CallbackInfo &info);
// seccomp.cc
Napi::Value SeccompVersion(const Napi::CallbackInfo &info);
Napi::Value SeccompCompile(const Napi::CallbackInfo &info);
// idmap.cc
Napi::Value UsernsFd(const Napi::CallbackInfo &info);
Napi::Value IdmappedTree(const Napi::CallbackInfo &info);
Napi::Value DeviceNodeTree(const Napi::CallbackInfo &info);
// bpf.cc
Napi::Value BpfDeviceProgramLoad(const Napi::CallbackInfo &info);
Napi::Value BpfDeviceProgramAttach(const Napi::CallbackInfo &info);
Napi::Value BpfDeviceProgramQuery(const Napi::CallbackInfo &info);
Napi::Value BpfDeviceProgramDetach(const Napi::CallbackInfo &info);
// eventfd.cc
Napi::Value Eventfd(const Napi::CallbackInfo &info);
// inroot.cc
Napi::Value MkdirInRoot(const Napi::CallbackInfo &info);
}  // namespace tsr

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char *name;
    Napi::Value (*fn)(const Napi::CallbackInfo &);
  };
  static const Entry table[] = {
      {"spawn", tsr::Spawn},
      {"pidfdOpen", tsr::PidfdOpen},
      {"pidfdSendSignal", tsr::PidfdSendSignal},
      {"waitPidfd", tsr::WaitPidfd},
      {"waitPidfdAsync", tsr::WaitPidfdAsync},
      {"poll", tsr::Poll},
      {"sendMessage", tsr::SendMessage},
      {"sendFd", tsr::SendFd},
      {"recvFd", tsr::RecvFd},
      {"recvPacket", tsr::RecvPacket},
      {"socketPair", tsr::SocketPair},
      {"connectUnix", tsr::ConnectUnix},
      {"pipe", tsr::Pipe},
      {"memfd", tsr::Memfd},
      {"flock", tsr::Flock},
      {"mkfifo", tsr::Mkfifo},
      {"strerror", tsr::StrError},
      {"primeCgroupMigration", tsr::PrimeCgroupMigration},
      {"closeFd", tsr::CloseFd},
      {"getWinsize", tsr::GetWinsize},
      {"setWinsize", tsr::SetWinsize},
      {"clearOnlcr", tsr::ClearOnlcr},
      {"seccompVersion", tsr::SeccompVersion},
      {"bpfDeviceProgramLoad", tsr::BpfDeviceProgramLoad},
      {"bpfDeviceProgramAttach", tsr::BpfDeviceProgramAttach},
      {"bpfDeviceProgramQuery", tsr::BpfDeviceProgramQuery},
      {"bpfDeviceProgramDetach", tsr::BpfDeviceProgramDetach},
      {"eventfd", tsr::Eventfd},
      {"mkdirInRoot", tsr::MkdirInRoot},
      {"seccompCompile", tsr::SeccompCompile},
      {"usernsFd", tsr::UsernsFd},
      {"idmappedTree", tsr::IdmappedTree},
      {"deviceNodeTree", tsr::DeviceNodeTree},
  };
  for (const Entry &e : table) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

NODE_API_MODULE(tsrunc, Init)
