// The container's terminal: a pty from the container's own devpts instance.
//
// The master goes to the console socket (one message, "/dev/ptmx" as payload, the fd in
// SCM_RIGHTS, as runc sends it); the slave, obtained with TIOCGPTPEER so no path lookup
// can be raced, becomes the controlling terminal on fds 0-2 and is bound over /dev/console.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <linux/magic.h>

#include "../common/fdpass.h"
#include "child.h"
#include "mountfd.h"
#include "sys.h"
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
  int pts = sys_openat2(root, "dev/pts", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  if (pts < 0) die("console", "/dev/pts", errno);
  struct statfs sf;
  struct stat pts_st, slave_st;
  if (fstatfs(pts, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) die("console", "/dev/pts is not a devpts mount", EPERM);
  if (fstat(pts, &pts_st) < 0 || fstat(slave, &slave_st) < 0) die("console", "stat the pty", errno);
  if (pts_st.st_dev != slave_st.st_dev) die("console", "the pty is not from the container's /dev/pts", EPERM);
  close(pts);
}

// /dev/console as a plain file to bind the pty over. Whatever else the image put there
// (a symlink to a procfs file, say) is replaced first: the bind must land on /dev/console
// itself (CVE-2025-52565 class).
int console_target(int root) {
  int dev = mkdir_all_in_root(root, "/dev", false, 0755);
  if (dev < 0) die("console", "/dev", -dev);
  struct stat st;
  if (fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
    if (unlinkat(dev, "console", S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) die("console", "replace /dev/console", errno);
  }
  int f = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (f >= 0) close(f);
  else if (errno != EEXIST) die("console", "create /dev/console", errno);
  int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0) die("console", "/dev/console", errno);
  if (fstat(target, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)))
    die("console", "/dev/console is not a file", EPERM);
  close(dev);
  return target;
}

}  // namespace

void setup_console(const ProcessSpec *proc, bool bind_dev_console) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die("console", "open /", errno);
  // /dev/ptmx is a symlink to pts/ptmx: follow it, but only inside the container.
  int master = sys_openat2(root, "dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0,
                           RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (master < 0) die("console", "open /dev/ptmx", errno);
  struct stat st;
  if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5)
    die("console", "/dev/ptmx is not a pty multiplexer", EPERM);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die("console", "unlock pty", errno);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die("console", "open pty peer", errno);
  if (!kWeakenConsole) check_devpts(root, slave);
  if (proc->console_rows || proc->console_cols) {
    struct winsize ws = {};
    ws.ws_row = proc->console_rows;
    ws.ws_col = proc->console_cols;
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) die("console", "set window size", errno);
  }
  if (bind_dev_console) {
    int target = kWeakenConsole ? mkdir_all_in_root(root, "/dev/console", true, 0755) : console_target(root);
    if (target < 0) die("console", "/dev/console", -target);
    int err = bind_fd_onto(slave, target, false);
    if (err) die("console", "bind the pty over /dev/console", err);
    close(target);
  }
  if (proc->console_socket_fd >= 0) {
    if (send_with_fd(proc->console_socket_fd, "/dev/ptmx", 9, master) != 0) die("console", "send the pty master", errno);
    close(proc->console_socket_fd);
  }
  close(master);
  for (int i = 0; i < 3; i++) {
    if (dup2(slave, i) < 0) die("console", "dup the pty onto stdio", errno);
  }
  if (slave > 2) close(slave);
  if (ioctl(0, TIOCSCTTY, 0) < 0) die("console", "make the pty the controlling terminal", errno);
  close(root);
}

}  // namespace tsr
