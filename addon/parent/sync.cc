// The runtime's end of the sync socket: one protocol message (its bytes, coded and checked
// by src/native/generated/protocol.ts) per SOCK_SEQPACKET packet, with an fd when one is
// attached.
#include <errno.h>
#include <sys/socket.h>

#include "../common/fdpass.h"
#include "napi_util.h"

namespace tsr {

namespace {
constexpr size_t kMaxMessage = 256;  // more than any message; a longer packet is truncated
}

// recvMessage(syncFd) -> { bytes: Buffer, fd } ; bytes empty at EOF
Napi::Value RecvMessage(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  unsigned char buf[kMaxMessage];
  int fd = -1;
  long n = recv_with_fd(arg_int(info, 0), buf, sizeof buf, &fd);
  if (n == -ECONNRESET) n = 0;
  if (n < 0) return throw_errno(env, (int)-n, "recvmsg");
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Buffer<unsigned char>::Copy(env, buf, (size_t)n));
  out.Set("fd", Napi::Number::New(env, fd));
  return out;
}

// sendMessage(syncFd, bytes)
Napi::Value SendMessage(const Napi::CallbackInfo &info) {
  if (info.Length() < 2 || !info[1].IsBuffer()) return throw_type(info.Env(), "sendMessage(syncFd, bytes: Buffer)");
  Napi::Buffer<unsigned char> bytes = info[1].As<Napi::Buffer<unsigned char>>();
  for (;;) {
    if (send(arg_int(info, 0), bytes.Data(), bytes.Length(), MSG_NOSIGNAL) >= 0) break;
    if (errno == EINTR) continue;
    // The child may already be gone; the caller learns that from recvMessage / the pidfd.
    if (errno != EPIPE && errno != ECONNRESET) return throw_errno(info.Env(), errno, "send");
    break;
  }
  return info.Env().Undefined();
}

}  // namespace tsr
