// fd-based mount operations (Linux 5.12+ mount API). They act on the exact mount an fd
// names, so they cannot be redirected by a symlink swapped in between resolving and
// mounting, and they need no /proc inside the container. Each returns 0 or -errno.
#pragma once

#include <fcntl.h>
#include <linux/mount.h>

#include "sys.h"

namespace tsr {

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

// Change attributes of the mount `fd` names (optionally its whole subtree).
inline long setattr_fd(int fd, uint64_t set, uint64_t clr, uint64_t propagation, bool recursive) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  attr.propagation = propagation;
  return sys::mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr);
}

// Bind-mount whatever src_fd names onto target_fd.
inline long bind_fd_onto(int src_fd, int target_fd, bool recursive) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  long tree = sys::open_tree(src_fd, "", flags);
  if (tree < 0) return tree;
  long rc = sys::move_mount((int)tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  long closed = sys::close((int)tree);
  return rc < 0 ? rc : closed;
}

}  // namespace tsr
