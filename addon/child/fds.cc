// Descriptor hygiene: the descriptors handed over must be inheritable and blocking.
#include <fcntl.h>

#include "child.h"

namespace tsr {

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
