// Path resolution confined to a root directory.
//
// A container image is untrusted: any component of a mount target, device path or masked
// path may be a symlink planted to point at the host ("../../etc", "/proc/self/root/...").
// Every lookup here goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), which
// makes "/" and ".." stop at the root and refuses /proc magic links, so the resulting fd
// always names something inside the root. Callers then operate on "/proc/self/fd/N".
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "inroot.h"

#include "sys.h"
#include "util.h"

namespace tsr {

namespace {
constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr int kPathMax = 4096;
constexpr int kMaxHops = 40;  // symlinks followed while creating, as the kernel's MAXSYMLINKS

// Is `name` in dir a symlink? Then put its target in buf.
bool read_link(int dir, const char *name, char *buf, size_t cap) {
  struct stat st;
  if (sys::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) return false;
  long n = sys::readlinkat(dir, name, buf, cap - 1);
  if (n <= 0) return false;
  buf[n] = 0;
  return true;
}

}  // namespace

long open_in_root(int root_fd, const char *path, int extra_flags, uint64_t extra_resolve) {
  const char *rel = path;
  while (*rel == '/') rel++;
  if (!*rel) rel = ".";
  return sys::openat2(root_fd, rel, (uint64_t)(O_PATH | O_CLOEXEC | extra_flags), 0, kResolve | extra_resolve);
}

long mkdir_all_in_root(int root_fd, const char *path, bool create_file, unsigned mode) {
  long fd = open_in_root(root_fd, path, 0);
  if (fd != -ENOENT) return fd;

  // Walk the path one component at a time from the root, creating what is missing. A
  // component that is a dangling symlink is replaced by its target (resolved inside the
  // root, like every lookup here) and the walk starts over, as runc's MkdirAll does.
  static char buf[kPathMax];  // static: single-threaded, and stacks are small
  static char next_path[kPathMax];
  static char link[kPathMax];
  if (!str_copy(buf, sizeof buf, path)) return -ENAMETOOLONG;
  for (int hops = 0;; hops++) {
    if (hops > kMaxHops) return -ELOOP;
    long dir = open_in_root(root_fd, "/", O_DIRECTORY);
    if (dir < 0) return dir;
    char *p = buf;
    bool restart = false;
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
      long next = open_in_root(root_fd, buf, 0);
      if (next == -ENOENT && read_link((int)dir, p, link, sizeof link)) {
        // A dangling symlink: continue with "<its directory>/<target>/<rest>".
        *p = 0;  // buf now holds the directory part (with its trailing '/')
        str_copy(next_path, sizeof next_path, link[0] == '/' ? "" : buf);
        bool fits = str_append(next_path, sizeof next_path, link);
        if (saved) {
          fits = fits && str_append(next_path, sizeof next_path, "/");
          fits = fits && str_append(next_path, sizeof next_path, end + 1);
        }
        long closed = sys::close((int)dir);
        if (closed < 0) return closed;
        if (!fits) return -ENAMETOOLONG;
        str_copy(buf, sizeof buf, next_path);
        restart = true;
        break;
      }
      if (next == -ENOENT) {
        long made;
        if (last && create_file) {
          made = sys::openat((int)dir, p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (made >= 0) made = sys::close((int)made);
        } else {
          made = sys::mkdirat((int)dir, p, mode);
        }
        // EEXIST: lost a race; resolving again decides.
        if (made < 0 && made != -EEXIST) {
          sys::close((int)dir);  // the first failure is the one to report
          return made;
        }
        next = open_in_root(root_fd, buf, 0);
      }
      long closed = sys::close((int)dir);
      if (next < 0) return next;  // the lookup's failure is the one to report
      if (closed < 0) {
        sys::close((int)next);
        return closed;
      }
      dir = next;
      *end = saved;
      if (!saved) break;
      p = end;
    }
    if (!restart) return dir;
  }
}

}  // namespace tsr
