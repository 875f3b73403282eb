// The container's terminal: a pty from the container's own devpts instance.
//
// The master goes to the console socket (one message, "/dev/ptmx" as payload, the fd in
// SCM_RIGHTS, as runc sends it); the slave, obtained with TIOCGPTPEER so no path lookup
// can be raced, becomes the controlling terminal on fds 0-2 and is bound over /dev/console.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include "../common/fdpass.h"
#include "child.h"
#include "mountfd.h"
#include "weaken.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace tsr {

namespace {

// The pty must come from the devpts instance mounted at the container's /dev/pts, not
// from another instance (the host's) that a device node planted in the image as /dev/ptmx
// could open.
void check_devpts(int root, int slave) {
  long pts = check(open_in_root(root, "/dev/pts", O_DIRECTORY, RESOLVE_NO_SYMLINKS), Step::CONSOLE_DEVPTS);
  struct statfs sf;
  struct stat pts_st, slave_st;
  check(sys::fstatfs((int)pts, &sf), Step::CONSOLE_DEVPTS);
  if (sf.f_type != DEVPTS_SUPER_MAGIC) die(Step::CONSOLE_DEVPTS, EPERM);
  check(sys::fstatat((int)pts, "", &pts_st, AT_EMPTY_PATH), Step::CONSOLE_DEVPTS);
  check(sys::fstatat(slave, "", &slave_st, AT_EMPTY_PATH), Step::CONSOLE_DEVPTS);
  if (pts_st.st_dev != slave_st.st_dev) die(Step::CONSOLE_FOREIGN_PTY, EPERM);
  close_checked(pts, Step::CONSOLE);
}

// /dev/console as a plain file to bind the pty over. Whatever else the image put there
// (a symlink to a procfs file, say) is replaced first: the bind must land on /dev/console
// itself (CVE-2025-52565 class).
long console_target(int root) {
  long dev = check(mkdir_all_in_root(root, "/dev", false, 0755), Step::CONSOLE_DEV_CONSOLE);
  struct stat st;
  if (sys::fstatat((int)dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    check(sys::unlinkat((int)dev, "console", S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0), Step::CONSOLE_DEV_CONSOLE);
  long f = sys::openat((int)dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (f >= 0) close_checked(f, Step::CONSOLE);
  else if (f != -EEXIST) die(Step::CONSOLE_DEV_CONSOLE, f);
  long target = check(sys::openat((int)dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), Step::CONSOLE_DEV_CONSOLE);
  check(sys::fstatat((int)target, "", &st, AT_EMPTY_PATH), Step::CONSOLE_DEV_CONSOLE);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) die(Step::CONSOLE_DEV_CONSOLE, EPERM);
  close_checked(dev, Step::CONSOLE);
  return target;
}

}  // namespace

void setup_console(const Process &proc, bool bind_dev_console) {
  long root = check(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), Step::CONSOLE);
  // /dev/ptmx is a symlink to pts/ptmx: follow it, but only inside the container.
  long master = check(sys::openat2((int)root, "dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0,
                                   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
                      Step::CONSOLE_PTMX);
  struct stat st;
  check(sys::fstatat((int)master, "", &st, AT_EMPTY_PATH), Step::CONSOLE_PTMX);
  if (!S_ISCHR(st.st_mode) || ((st.st_rdev >> 8) & 0xfff) != 5) die(Step::CONSOLE_PTMX, EPERM);
  int unlock = 0;
  check(sys::ioctl((int)master, TIOCSPTLCK, (unsigned long)&unlock), Step::CONSOLE);
  long slave = check(sys::ioctl((int)master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC), Step::CONSOLE);
  if (!kWeakenConsole) check_devpts((int)root, (int)slave);
  if (proc.console_rows || proc.console_cols) {
    struct winsize ws = {};
    ws.ws_row = proc.console_rows;
    ws.ws_col = proc.console_cols;
    check(sys::ioctl((int)slave, TIOCSWINSZ, (unsigned long)&ws), Step::CONSOLE);
  }
  if (proc.console_relayed) {
    // The runtime relays this pty: "\n" leaves it as "\n" (runc's ClearONLCR), set before the
    // program runs because a shell keeps the settings it finds and restores them. glibc's
    // termios begins with the kernel's, which is all TCGETS/TCSETS copy.
    struct termios t;
    check(sys::ioctl((int)slave, TCGETS, (unsigned long)&t), Step::CONSOLE);
    t.c_oflag &= ~(tcflag_t)ONLCR;
    check(sys::ioctl((int)slave, TCSETS, (unsigned long)&t), Step::CONSOLE);
  }
  if (bind_dev_console) {
    long target = kWeakenConsole ? check(mkdir_all_in_root((int)root, "/dev/console", true, 0755), Step::CONSOLE_DEV_CONSOLE)
                                 : console_target((int)root);
    check(bind_fd_onto((int)slave, (int)target, false), Step::CONSOLE_BIND);
    close_checked(target, Step::CONSOLE);
  }
  if (proc.console_socket_fd >= 0) {
    FdMessage m("/dev/ptmx", 9, (int)master);
    long n;
    do n = sys::sendmsg(proc.console_socket_fd, &m.msg, MSG_NOSIGNAL);
    while (n == -EINTR);
    check(n, Step::CONSOLE_SEND);
    close_checked(proc.console_socket_fd, Step::CONSOLE);
  }
  close_checked(master, Step::CONSOLE);
  // dup3 clears close-on-exec on the copies; the peer itself was opened with it.
  for (int i = 0; i < 3; i++)
    check(slave == i ? sys::fcntl(i, F_SETFD, 0) : sys::dup3((int)slave, i, 0), Step::CONSOLE);
  if (slave > 2) close_checked(slave, Step::CONSOLE);
  check(sys::ioctl(0, TIOCSCTTY, 0), Step::CONSOLE_CTTY);
  close_checked(root, Step::CONSOLE);
}

}  // namespace tsr
