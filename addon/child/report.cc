// Child -> parent reporting over the SOCK_SEQPACKET sync socket (async-signal-safe).
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/fdpass.h"
#include "child.h"
#include "sys.h"

namespace tsr {

namespace {
int g_sync_fd = -1;
uint32_t g_index = kNoIndex;
}

void child_set_index(uint32_t index) { g_index = index; }

void child_set_sync_fd(int fd) { g_sync_fd = fd; }
int child_sync_fd() { return g_sync_fd; }

bool send_msg(uint32_t type, int err, int pid, const char *step, const char *detail) {
  if (g_sync_fd < 0) return false;
  Msg m = {};
  m.type = type;
  m.err = err;
  m.pid = pid;
  m.index = g_index;
  str_copy(m.step, sizeof m.step, step ? step : "");
  str_copy(m.detail, sizeof m.detail, detail ? detail : "");
  for (;;) {
    ssize_t n = send(g_sync_fd, &m, sizeof m, MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof m) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool send_msg_fd(uint32_t type, int fd, const char *step) {
  Msg m = {};
  m.type = type;
  str_copy(m.step, sizeof m.step, step ? step : "");
  return send_with_fd(g_sync_fd, &m, sizeof m, fd) == 0;
}

uint32_t wait_parent() {
  Msg m;
  for (;;) {
    ssize_t n = recv(g_sync_fd, &m, sizeof m, 0);
    if (n == (ssize_t)sizeof m) return m.type;
    if (n < 0 && errno == EINTR) continue;
    return 0;
  }
}

void die(const char *step, const char *detail, int err) {
  send_msg(MSG_ERROR, err, 0, step, detail);
  _exit(1);
}

void die2(const char *step, const char *a, const char *b, int err) {
  char buf[kDetailLen];
  str_copy(buf, sizeof buf, a);
  str_append(buf, sizeof buf, b);
  die(step, buf, err);
}

}  // namespace tsr
