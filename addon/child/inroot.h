// Path resolution that cannot leave a root directory (inroot.cc).
//
// Shared by the child program (mount targets, devices, symlinks, the cwd) and the addon
// (mkdirInRoot, for restore: the mount points of a new root filesystem, addon/parent/
// inroot.cc). It reports nothing itself: every failure, a close's included, is its result,
// so each caller reports it its own way (the child as a step, the addon as an exception).
#pragma once

#include <stdint.h>

namespace tsr {

// O_PATH fd of `path` (absolute, container view) under root_fd, resolved with
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (| extra_resolve); or -errno.
long open_in_root(int root_fd, const char *path, int extra_flags, uint64_t extra_resolve = 0);
// Create the missing directories of `path` under root_fd (and the final file when
// create_file), never following a symlink out of the root. O_PATH fd of the target or
// -errno. Not reentrant (static buffers: the child is single-threaded, its stack small;
// the addon calls it on the JavaScript thread).
long mkdir_all_in_root(int root_fd, const char *path, bool create_file, unsigned mode);

}  // namespace tsr
