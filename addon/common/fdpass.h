// Passing a file descriptor over a unix socket (SCM_RIGHTS): one message, a payload and
// one fd. Async-signal-safe (no allocation, no library state), so both the child side and
// the N-API side use it.
#pragma once

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace tsr {

// Send `len` bytes of `payload` with `fd` attached. 0, or an errno.
inline int send_with_fd(int sock, const void *payload, size_t len, int fd) {
  struct iovec iov = {const_cast<void *>(payload), len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control = {};
  struct msghdr msg = {};
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
  for (;;) {
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// Receive one message into buf (up to cap bytes); *fd gets the attached descriptor
// (close-on-exec) or -1. Returns the byte count (0 at EOF), or -errno.
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
