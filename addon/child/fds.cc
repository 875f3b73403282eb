// Descriptor helpers: writing a knob, and descriptors handed over inheritable and blocking.
#include <errno.h>
#include <fcntl.h>

#include "child.h"

namespace tsr {

void write_all_checked(int fd, const char *text, Step step) {
  size_t len = str_len(text);
  while (len) {
    long n = sys::write(fd, text, len);
    if (n == -EINTR) continue;
    if (n == 0) die(step, EIO);
    check(n, step);
    text += n;
    len -= (size_t)n;
  }
}

long make_inheritable(int fd) {
  long rc = sys::fcntl(fd, F_SETFD, 0);
  if (rc < 0) return rc;
  long fl = sys::fcntl(fd, F_GETFL, 0);
  if (fl < 0) return fl;
  if (fl & O_NONBLOCK) {
    rc = sys::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (rc < 0) return rc;
  }
  return 0;
}

}  // namespace tsr
