// fd-based mount operations (Linux 5.12+ mount API). They act on the exact mount an fd
// names, so they cannot be redirected by a symlink swapped in between resolving and
// mounting, and they need no /proc inside the container.
#pragma once

#include <linux/mount.h>
#include <sys/mount.h>

#include "sys.h"

namespace tsr {

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

// Change attributes of the mount `fd` names (optionally its whole subtree).
inline int setattr_fd(int fd, uint64_t set, uint64_t clr, uint64_t propagation, bool recursive) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  attr.propagation = propagation;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  return sys_mount_setattr(fd, "", flags, &attr) < 0 ? errno : 0;
}

// Bind-mount whatever src_fd names onto target_fd (non-recursive). 0 or errno.
inline int bind_fd_onto(int src_fd, int target_fd, bool recursive) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  int tree = sys_open_tree(src_fd, "", flags);
  if (tree < 0) return errno;
  int rc = sys_move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int err = rc < 0 ? errno : 0;
  close(tree);
  return err;
}

}  // namespace tsr
