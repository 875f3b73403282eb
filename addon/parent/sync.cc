// Message sockets: SOCK_SEQPACKET pairs and their packets, one message each with an fd when
// one is attached. The child program's sync socket carries the generated protocol's
// messages (coded and checked by src/native/generated/protocol.ts); CRIU's swrk socket
// carries its RPC (src/criu/swrk.ts). The bytes are the caller's to decode.
#include <errno.h>
#include <sys/socket.h>

#include <vector>

#include "../common/fdpass.h"
#include "napi_util.h"

namespace tsr {

// socketPair(seqpacket = false) -> [fd, fd] (SOCK_STREAM or SOCK_SEQPACKET, close-on-exec)
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  int sv[2];
  int type = info.Length() > 0 && info[0].ToBoolean().Value() ? SOCK_SEQPACKET : SOCK_STREAM;
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) return throw_errno(info.Env(), errno, "socketpair");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set((uint32_t)0, Napi::Number::New(info.Env(), sv[0]));
  out.Set((uint32_t)1, Napi::Number::New(info.Env(), sv[1]));
  return out;
}

// recvPacket(socketFd, capacity) -> {data: Buffer, fd, truncated} : one packet as bytes,
// with the fd it carried (close-on-exec) or -1. Empty data is EOF; ECONNRESET (the peer
// exited with a message of ours unread) is thrown for the caller to judge.
Napi::Value RecvPacket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int cap = arg_int(info, 1, 4096);
  if (cap <= 0 || cap > (1 << 20)) return throw_type(env, "recvPacket: capacity out of range");
  std::vector<char> buf((size_t)cap + 1);
  int fd = -1;
  // One byte more than asked: a message that fills it was cut short.
  long n = recv_with_fd(arg_int(info, 0), buf.data(), buf.size(), &fd);
  if (n < 0) return throw_errno(env, (int)-n, "recvmsg");
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), (size_t)(n > cap ? cap : n)));
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("truncated", Napi::Boolean::New(env, n > cap));
  return out;
}

// sendMessage(socketFd, bytes) : one packet; a peer already gone is not an error here (the
// caller learns that from recvPacket / the pidfd)
Napi::Value SendMessage(const Napi::CallbackInfo &info) {
  if (info.Length() < 2 || !info[1].IsBuffer()) return throw_type(info.Env(), "sendMessage(socketFd, bytes: Buffer)");
  Napi::Buffer<unsigned char> bytes = info[1].As<Napi::Buffer<unsigned char>>();
  for (;;) {
    if (send(arg_int(info, 0), bytes.Data(), bytes.Length(), MSG_NOSIGNAL) >= 0) break;
    if (errno == EINTR) continue;
    if (errno != EPIPE && errno != ECONNRESET) return throw_errno(info.Env(), errno, "send");
    break;
  }
  return info.Env().Undefined();
}

}  // namespace tsr
