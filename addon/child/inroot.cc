// Path resolution confined to a root directory.
//
// A container image is untrusted: any component of a mount target, device path or masked
// path may be a symlink planted to point at the host ("../../etc", "/proc/self/root/...").
// Every lookup here goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), which
// makes "/" and ".." stop at the root and refuses /proc magic links, so the resulting fd
// always names something inside the root. Callers then operate on "/proc/self/fd/N".
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"

namespace tsr {

namespace {
constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr int kPathMax = 4096;
}  // namespace

int open_in_root(int root_fd, const char *path, int extra_flags) {
  const char *rel = path;
  while (*rel == '/') rel++;
  if (!*rel) rel = ".";
  int fd = sys_openat2(root_fd, rel, (uint64_t)(O_PATH | O_CLOEXEC | extra_flags), 0, kResolve);
  return fd < 0 ? -errno : fd;
}

int mkdir_all_in_root(int root_fd, const char *path, bool create_file, unsigned mode) {
  int fd = open_in_root(root_fd, path, 0);
  if (fd >= 0) return fd;
  if (fd != -ENOENT) return fd;

  // Walk the path one component at a time from the root, creating what is missing.
  char buf[kPathMax];
  if (!str_copy(buf, sizeof buf, path)) return -ENAMETOOLONG;
  int dir = open_in_root(root_fd, "/", O_DIRECTORY);
  if (dir < 0) return dir;
  char *p = buf;
  for (;;) {
    while (*p == '/') p++;
    if (!*p) break;  // trailing slash: the directory itself is the target
    char *end = p;
    while (*end && *end != '/') end++;
    bool last = true;
    for (char *q = end; *q; q++) {
      if (*q != '/') {
        last = false;
        break;
      }
    }
    char saved = *end;
    *end = 0;
    // Resolve the prefix so far from the root: this follows symlinks, but inside it.
    int next = open_in_root(root_fd, buf, 0);
    if (next == -ENOENT) {
      int made;
      if (last && create_file) {
        int f = openat(dir, p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        made = f < 0 ? errno : 0;
        if (f >= 0) close(f);
      } else {
        made = mkdirat(dir, p, mode) < 0 ? errno : 0;
      }
      // EEXIST: lost a race, or a dangling symlink; resolving again decides.
      if (made && made != EEXIST) {
        close(dir);
        return -made;
      }
      next = open_in_root(root_fd, buf, 0);
    }
    close(dir);
    if (next < 0) return next;
    dir = next;
    *end = saved;
    if (!saved) break;
    p = end;
  }
  return dir;
}

}  // namespace tsr
