// Descriptor hygiene in the child: nothing of the runtime's may reach the container
// (CVE-2024-21626 class), and the fds handed over must be inheritable and blocking.
#include <fcntl.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"

namespace tsr {

void close_fds_except(int keep_below, const int *keep, int n) {
  // Insertion-sort a copy of the keep list (it is tiny), then close the gaps with
  // close_range(2). Falls back to close(2) one by one on kernels without close_range.
  int sorted[64];
  int m = 0;
  for (int i = 0; i < n && m < 64; i++) {
    if (keep[i] < keep_below) continue;
    int v = keep[i], j = m++;
    while (j > 0 && sorted[j - 1] > v) {
      sorted[j] = sorted[j - 1];
      j--;
    }
    sorted[j] = v;
  }
  unsigned next = (unsigned)keep_below;
  for (int i = 0; i <= m; i++) {
    unsigned stop = i < m ? (unsigned)sorted[i] : ~0U;
    if (stop > next) {
      unsigned last = stop == ~0U ? ~0U : stop - 1;
      if (sys_close_range(next, last, 0) < 0) {
        unsigned cap = last == ~0U ? 65536 : last;
        for (unsigned fd = next; fd <= cap; fd++) close((int)fd);
      }
    }
    if (i < m) next = (unsigned)sorted[i] + 1;
  }
}

int make_inheritable(int fd) {
  if (fcntl(fd, F_SETFD, 0) < 0) return errno;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return errno;
  if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) return errno;
  return 0;
}

}  // namespace tsr
