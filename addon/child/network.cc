// A new network namespace starts with its loopback interface down; runc and crun bring it
// up, and programs expect 127.0.0.1 to work. SIOCSIFFLAGS on a datagram socket, in the
// container's network namespace (stage 2 is in it).
#include <linux/if.h>
#include <linux/sockios.h>
#include <sys/socket.h>

#include "child.h"

namespace tsr {

void bring_loopback_up() {
  long sock = check(sys::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), Step::LOOPBACK);
  struct ifreq req = {};
  str_copy(req.ifr_name, sizeof req.ifr_name, "lo");
  check(sys::ioctl((int)sock, SIOCGIFFLAGS, (unsigned long)&req), Step::LOOPBACK);
  req.ifr_flags = (short)(req.ifr_flags | IFF_UP);
  check(sys::ioctl((int)sock, SIOCSIFFLAGS, (unsigned long)&req), Step::LOOPBACK);
  close_checked(sock, Step::LOOPBACK);
}

}  // namespace tsr
