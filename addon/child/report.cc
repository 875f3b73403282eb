// Child -> runtime reporting over the SOCK_SEQPACKET sync socket.
#include "report.h"

#include <errno.h>

#include "../common/fdpass.h"
#include "sys.h"

namespace tsr {

namespace {
int g_sync_fd = -1;
uint32_t g_index = kNoIndex;

long send_raw(const proto::Msg &m, int fd) {
  struct iovec iov = {const_cast<proto::Msg *>(&m), sizeof m};
  struct msghdr plain = {};
  plain.msg_iov = &iov;
  plain.msg_iovlen = 1;
  FdMessage with_fd(&m, sizeof m, fd);
  const struct msghdr *msg = fd >= 0 ? &with_fd.msg : &plain;
  for (;;) {
    long n = sys::sendmsg(g_sync_fd, msg, MSG_NOSIGNAL);
    if (n == (long)sizeof m) return 0;
    if (n == -EINTR) continue;
    return n < 0 ? n : -EPROTO;
  }
}

proto::Msg make(MsgType type, Step step, long err, int pid, uint32_t index) {
  proto::Msg m = {};
  m.type = (uint32_t)type;
  m.step = (uint32_t)step;
  m.err = (int32_t)(err < 0 ? -err : err);
  m.pid = pid;
  m.index = index;
  return m;
}
}  // namespace

void report_init(int fd) { g_sync_fd = fd; }
int sync_fd() { return g_sync_fd; }
void set_index(uint32_t index) { g_index = index; }

void die(Step step, long err) { die_at(step, err, g_index); }

void die_at(Step step, long err, uint32_t index) {
  // Nothing more can be done if this send fails: the runtime then sees the socket close
  // before READY and reports how the child ended.
  send_raw(make(MsgType::ERROR, step, err, 0, index), -1);
  sys::exit_group(1);
}

void warn(Step step, long err, uint32_t index) { send_raw(make(MsgType::WARNING, step, err, 0, index), -1); }

long send_msg(MsgType type, int pid) { return send_raw(make(type, Step(0), 0, pid, g_index), -1); }

long send_msg_fd(MsgType type, int fd) { return send_raw(make(type, Step(0), 0, 0, kNoIndex), fd); }

long wait_go() {
  proto::Msg m;
  struct iovec iov = {&m, sizeof m};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (;;) {
    long n = sys::recvmsg(g_sync_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    if (n == 0) return -EPIPE;
    if (n != (long)sizeof m || m.type != (uint32_t)MsgType::GO) return -EPROTO;
    return 0;
  }
}

}  // namespace tsr
