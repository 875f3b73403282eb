// One message with one file descriptor attached (SCM_RIGHTS). Plain data and header macros
// only, so both the child program (which sends it through its system-call layer) and the
// N-API side use it.
#pragma once

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace tsr {

// A ready msghdr: `len` bytes of `payload` and `fd` in the control data. Not copyable (the
// header points into the object itself).
struct FdMessage {
  struct iovec iov;
  struct msghdr msg;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;  // last: it ends in a flexible array
  } control;

  FdMessage(const void *payload, size_t len, int fd) : iov{const_cast<void *>(payload), len}, msg{}, control{} {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    unsigned char *data = CMSG_DATA(c);
    const unsigned char *src = reinterpret_cast<const unsigned char *>(&fd);
    for (unsigned i = 0; i < sizeof(int); i++) data[i] = src[i];
  }
  FdMessage(const FdMessage &) = delete;
  FdMessage &operator=(const FdMessage &) = delete;
};

// The runtime's side (libc): send `len` bytes of `payload` with `fd` attached. 0, or an errno.
inline int send_with_fd(int sock, const void *payload, size_t len, int fd) {
  FdMessage m(payload, len, fd);
  for (;;) {
    if (sendmsg(sock, &m.msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// The runtime's side (libc): receive one message into buf (up to cap bytes); *fd gets the
// attached descriptor (close-on-exec) or -1. Returns the byte count (0 at EOF), or -errno.
inline long recv_with_fd(int sock, void *buf, size_t cap, int *fd) {
  struct iovec iov = {buf, cap};
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } control = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  long n;
  for (;;) {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0 || errno != EINTR) break;
  }
  *fd = -1;
  if (n < 0) return -errno;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const unsigned char *data = CMSG_DATA(c);
    unsigned char *dst = reinterpret_cast<unsigned char *>(fd);
    for (unsigned i = 0; i < sizeof(int); i++) dst[i] = data[i];
  }
  return n;
}

}  // namespace tsr
