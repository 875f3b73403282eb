// The container's root filesystem: mounts in order, devices, symlinks, the hooks pause,
// pivot_root; then, inside the new root, read-only and masked paths.
//
// Every target is resolved inside the rootfs (inroot.cc) and mounted through its fd, so
// a symlink in the image cannot send a mount, a device node or a mask onto the host.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "child.h"
#include "mountfd.h"
#include "weaken.h"

namespace tsr {

namespace {

int g_root_fd = -1;  // O_PATH fd of the rootfs mount (host path before pivot_root, "/" after)
const char *g_rootfs = nullptr;  // the rootfs's host path, until pivot_root

// (Re)open the root the mounts are resolved in: the topmost mount at the rootfs path.
void open_root() {
  if (g_root_fd >= 0) close_checked(g_root_fd, Step::ROOTFS_OPEN);
  g_root_fd = (int)check(sys::openat(AT_FDCWD, g_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), Step::ROOTFS_OPEN);
}

// Split "/a/b/c" into the directory fd of "/a/b" (created if missing) and "c".
long open_parent(const char *path, char *name, size_t name_cap) {
  char dir[4096];
  if (!str_copy(dir, sizeof dir, path)) return -ENAMETOOLONG;
  size_t n = str_len(dir);
  while (n > 1 && dir[n - 1] == '/') dir[--n] = 0;
  size_t slash = n;
  while (slash > 0 && dir[slash - 1] != '/') slash--;
  if (!str_copy(name, name_cap, dir + slash)) return -ENAMETOOLONG;
  dir[slash] = 0;
  return mkdir_all_in_root(g_root_fd, slash ? dir : "/", false, 0755);
}

bool on_procfs(int fd) {
  struct statfs sf;
  return sys::fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

bool is_null_device(const struct stat &st) { return S_ISCHR(st.st_mode) && st.st_rdev == make_dev(1, 3); }

// The container's /dev/null (open `flags`), checked to be the null device itself and not a
// symlink or another file the image or a mount put there (CVE-2025-31133 class): what is
// bound over masked files, and what stdio is moved onto. A failure to open or check it is
// reported as `step`.
long open_dev_null(int flags, Step step) {
  long fd = sys::openat2(g_root_fd, "dev/null", (uint64_t)(flags | O_CLOEXEC), 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
  if (fd == -ELOOP) die(Step::DEV_NULL_SYMLINK, ELOOP);
  check(fd, step);
  struct stat st;
  check(sys::fstatat((int)fd, "", &st, AT_EMPTY_PATH), step);
  if (!is_null_device(st)) die(Step::DEV_NULL_NOT_DEVICE, EPERM);
  return fd;
}

// Mount attributes and propagation on the mount now at `dest`.
void apply_mount_attrs(const Mount &m, const char *dest) {
  if (!(m.attr_set | m.attr_clr | m.rattr_set | m.rattr_clr | m.propagation)) return;
  long fd = check(open_in_root(g_root_fd, dest, 0), Step::MOUNT_REOPEN);
  if (m.rattr_set | m.rattr_clr) check(setattr_fd((int)fd, m.rattr_set, m.rattr_clr, 0, true), Step::MOUNT_SETATTR);
  if (m.attr_set | m.attr_clr) check(setattr_fd((int)fd, m.attr_set, m.attr_clr, 0, false), Step::MOUNT_SETATTR);
  if (m.propagation)
    check(setattr_fd((int)fd, 0, 0, m.propagation, m.propagation_recursive != 0), Step::MOUNT_PROPAGATION);
  close_checked(fd, Step::MOUNT_REOPEN);
}

// procfs and sysfs targets: no symlink anywhere on the way, not even one that stays inside
// the rootfs, and a directory (runc: "must be mounted on ordinary directory"). An image
// with /proc -> somewhere would otherwise decide where procfs lands (CVE-2019-16884).
long strict_target(const char *dest) {
  long fd = open_in_root(g_root_fd, dest, 0, RESOLVE_NO_SYMLINKS);
  if (fd == -ENOENT) {
    close_checked(check(mkdir_all_in_root(g_root_fd, dest, false, 0755), Step::MOUNT_TARGET), Step::MOUNT_TARGET);
    fd = open_in_root(g_root_fd, dest, 0, RESOLVE_NO_SYMLINKS);
  }
  if (fd == -ELOOP) die(Step::MOUNT_NOT_DIRECTORY, ELOOP);
  check(fd, Step::MOUNT_TARGET);
  struct stat st;
  check(sys::fstatat((int)fd, "", &st, AT_EMPTY_PATH), Step::MOUNT_TARGET);
  if (!S_ISDIR(st.st_mode)) die(Step::MOUNT_NOT_DIRECTORY, ENOTDIR);
  return fd;
}

// tmpcopyup: what the image has in the directory a tmpfs now covers, copied into the tmpfs
// (runc's option; only for tmpfs, as runc). `from` is an fd of the covered directory, opened
// before the mount; `to` names the new mount. Nothing is followed: symlinks are copied as
// symlinks, every open is O_NOFOLLOW relative to a directory fd.
char g_copy_buf[65536];
constexpr int kMaxCopyDepth = 64;

void copy_file(int from, int to, const char *name, unsigned mode) {
  long in = check(sys::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0), Step::TMPCOPYUP);
  long out = check(sys::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode), Step::TMPCOPYUP);
  for (;;) {
    long n = sys::read((int)in, g_copy_buf, sizeof g_copy_buf);
    if (n == -EINTR) continue;
    if (check(n, Step::TMPCOPYUP) == 0) break;
    for (long done = 0; done < n;) {
      long w = sys::write((int)out, g_copy_buf + done, (size_t)(n - done));
      if (w == -EINTR) continue;
      done += check(w, Step::TMPCOPYUP);
    }
  }
  close_checked(in, Step::TMPCOPYUP);
  close_checked(out, Step::TMPCOPYUP);
}

void copy_tree(int from, int to, int depth) {
  if (depth > kMaxCopyDepth) die(Step::TMPCOPYUP, ELOOP);
  char entries[4096];
  for (;;) {
    long n = check(sys::getdents64(from, entries, sizeof entries), Step::TMPCOPYUP);
    if (n == 0) return;
    for (long pos = 0; pos < n;) {
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name
      const char *e = entries + pos;
      unsigned short reclen = (unsigned short)((unsigned char)e[16] | ((unsigned char)e[17] << 8));
      const char *name = e + 19;
      pos += reclen;
      if (str_eq(name, ".") || str_eq(name, "..")) continue;
      struct stat st;
      check(sys::fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW), Step::TMPCOPYUP);
      unsigned mode = st.st_mode & 07777;
      if (S_ISDIR(st.st_mode)) {
        check(sys::mkdirat(to, name, mode), Step::TMPCOPYUP);
        long sub_from = check(sys::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0), Step::TMPCOPYUP);
        long sub_to = check(sys::openat(to, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0), Step::TMPCOPYUP);
        copy_tree((int)sub_from, (int)sub_to, depth + 1);
        close_checked(sub_from, Step::TMPCOPYUP);
        close_checked(sub_to, Step::TMPCOPYUP);
      } else if (S_ISREG(st.st_mode)) {
        copy_file(from, to, name, mode);
      } else if (S_ISLNK(st.st_mode)) {
        char link[4096];
        long len = check(sys::readlinkat(from, name, link, sizeof link - 1), Step::TMPCOPYUP);
        link[len] = 0;
        check(sys::symlinkat(link, to, name), Step::TMPCOPYUP);
      } else {
        check(sys::mknodat(to, name, st.st_mode, st.st_rdev), Step::TMPCOPYUP);
      }
      check(sys::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW), Step::TMPCOPYUP);
      // chown clears the set-id bits of a file: put the mode back as it was.
      if (!S_ISLNK(st.st_mode) && (mode & 06000)) check(sys::fchmodat(to, name, mode), Step::TMPCOPYUP);
    }
  }
}

// "mode=0755" (the covered directory's mode) in front of `data`, as runc gives a tmpfs; `data`
// as it is when the target does not exist yet (the tmpfs keeps its own default, 1777).
char g_mount_data[4096];
const char *data_with_mode(const Mount &m, const char *dest) {
  const char *data = str(m.data);
  long fd = open_in_root(g_root_fd, dest, 0);
  if (fd == -ENOENT) return data;
  check(fd, Step::TMPFS_MODE);
  struct stat st;
  check(sys::fstatat((int)fd, "", &st, AT_EMPTY_PATH), Step::TMPFS_MODE);
  close_checked(fd, Step::TMPFS_MODE);
  if (!S_ISDIR(st.st_mode)) return data;
  // "mode=" and four octal digits, as runc's %04o (the set-id and sticky bits included).
  char mode[10] = "mode=";
  unsigned bits = st.st_mode & 07777;
  for (int shift = 9, k = 5; shift >= 0; shift -= 3) mode[k++] = (char)('0' + ((bits >> shift) & 7));
  mode[9] = 0;
  str_copy(g_mount_data, sizeof g_mount_data, mode);
  if (data && (!str_append(g_mount_data, sizeof g_mount_data, ",") || !str_append(g_mount_data, sizeof g_mount_data, data))) {
    die(Step::TMPFS_MODE, ENAMETOOLONG);
  }
  return g_mount_data;
}

void do_mount(const Mount &m) {
  const char *dest = str(m.dest);
  const char *data = m.take_mode && !m.bind && m.mount_fd < 0 ? data_with_mode(m, dest) : str(m.data);
  long target = m.no_symlinks && !kWeakenProcfs
                    ? strict_target(dest)
                    : check(mkdir_all_in_root(g_root_fd, dest, m.create_file, 0755), Step::MOUNT_TARGET);
  // Only a proc mount at /proc (or an allowed lxcfs-style file) may cover procfs: a volume
  // whose target a symlink sends into /proc would hide the real one (CVE-2019-19921).
  if (!m.may_cover_proc && !kWeakenProcfs && on_procfs((int)target)) die(Step::MOUNT_OVER_PROC, EPERM);
  // tmpcopyup: keep a descriptor of the directory the tmpfs is about to cover.
  bool copyup = m.tmpcopyup && !m.bind && m.mount_fd < 0 && str_eq(str(m.fstype), "tmpfs");
  long covered = copyup ? check(sys::openat((int)target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), Step::TMPCOPYUP) : -1;
  FdPath at((int)target);
  if (m.mount_fd >= 0) {
    // Prepared by the runtime (an id-mapped clone of the source): attach it here.
    check(sys::move_mount(m.mount_fd, "", (int)target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
          Step::MOVE_MOUNT);
    close_checked(m.mount_fd, Step::MOVE_MOUNT);
  } else if (m.bind) {
    check(sys::mount(str(m.source), at.c_str(), nullptr, MS_BIND | (m.flags & MS_REC), nullptr), Step::BIND_MOUNT);
  } else {
    check(sys::mount(str(m.source), at.c_str(), str(m.fstype), m.flags, data), Step::MOUNT);
  }
  close_checked(target, Step::MOUNT_TARGET);
  // A mount over the root itself: later targets are resolved in it, not in what it covers.
  if (str_eq(dest, "/")) open_root();
  if (copyup) {
    long fresh = check(open_in_root(g_root_fd, dest, O_DIRECTORY), Step::TMPCOPYUP);
    copy_tree((int)covered, (int)fresh, 0);
    close_checked(fresh, Step::TMPCOPYUP);
    close_checked(covered, Step::TMPCOPYUP);
  }
  apply_mount_attrs(m, dest);
}

// Devices: mknod, or in a user namespace (where mknod is refused) a bind of the host node.
void make_device(const Device &d) {
  const char *path = str(d.path);
  if (d.bind_from_host) {
    long target = check(mkdir_all_in_root(g_root_fd, path, true, 0755), Step::DEVICE_TARGET);
    if (!kWeakenProcfs && on_procfs((int)target)) die(Step::DEVICE_ON_PROC, EPERM);
    // A clone of the host's node, nosuid and noexec before it is attached (as crun binds them):
    // a device is neither a program nor a set-id file.
    // The node the runtime made (mountFd), or the host's.
    long tree = d.mount_fd >= 0 ? d.mount_fd
                                : check(sys::open_tree(AT_FDCWD, str(d.host_path), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), Step::DEVICE_BIND);
    check(setattr_fd((int)tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, 0, false), Step::DEVICE_BIND);
    check(sys::move_mount((int)tree, "", (int)target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), Step::DEVICE_BIND);
    close_checked(tree, Step::DEVICE_BIND);
    close_checked(target, Step::DEVICE_TARGET);
    return;
  }
  char name[256];
  long dir = check(open_parent(path, name, sizeof name), Step::DEVICE_DIRECTORY);
  struct stat st;
  if (sys::fstatat((int)dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    bool same = (st.st_mode & S_IFMT) == (d.mode & S_IFMT) &&
                ((d.mode & S_IFMT) == S_IFIFO || st.st_rdev == make_dev(d.major, d.minor));
    if (!d.replace_existing && !same) die(Step::DEVICE_EXISTS, EEXIST);
    check(sys::unlinkat((int)dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0), Step::DEVICE_REPLACE);
  }
  check(sys::mknodat((int)dir, name, d.mode, make_dev(d.major, d.minor)), Step::MKNOD);
  check(sys::fchownat((int)dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW), Step::DEVICE_CHOWN);
  close_checked(dir, Step::DEVICE_DIRECTORY);
}

// The default /dev symlinks (fd, stdin, stdout, stderr, ptmx...). What the image has there is
// replaced, as runc replaces /dev/ptmx: a file, device or other symlink at /dev/stdout
// would send the container's output elsewhere, and a directory at /dev/fd would break
// every program that uses it, silently. An identical symlink stays; an empty directory is
// removed; a directory with content is an error (it is the image's data, not ours to delete).
void make_symlink(const Symlink &s) {
  const char *path = str(s.path), *target = str(s.target);
  char name[256];
  long dir = check(open_parent(path, name, sizeof name), Step::SYMLINK_DIRECTORY);
  struct stat st;
  long rc = sys::fstatat((int)dir, name, &st, AT_SYMLINK_NOFOLLOW);
  if (rc == 0) {
    char link[256];
    long n = S_ISLNK(st.st_mode) ? sys::readlinkat((int)dir, name, link, sizeof link - 1) : -EINVAL;
    if (n >= 0) link[n] = 0;
    if (n >= 0 && str_eq(link, target)) {
      close_checked(dir, Step::SYMLINK_DIRECTORY);
      return;
    }
    rc = sys::unlinkat((int)dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
    if (rc == -ENOTEMPTY || rc == -EEXIST) die(Step::SYMLINK_NOT_EMPTY, ENOTEMPTY);
    check(rc, Step::SYMLINK_REPLACE);
  } else if (rc != -ENOENT) {
    die(Step::SYMLINK_REPLACE, rc);
  }
  check(sys::symlinkat(target, (int)dir, name), Step::SYMLINK);
  close_checked(dir, Step::SYMLINK_DIRECTORY);
}

void do_pivot_root(const Plan *p) {
  const char *rootfs = str(p->rootfs);
  long oldroot = check(sys::openat(AT_FDCWD, "/", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0), Step::PIVOT_OPEN_OLD_ROOT);
  long newroot = check(sys::openat(AT_FDCWD, rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0), Step::PIVOT_OPEN_ROOTFS);
  check(sys::fchdir((int)newroot), Step::PIVOT_OPEN_ROOTFS);
  if (p->no_pivot) {
    // --no-pivot: move the rootfs over "/" and chroot into it (for ramdisk roots).
    check(sys::mount(".", "/", nullptr, MS_MOVE, nullptr), Step::MOVE_ROOTFS);
    check(sys::chroot("."), Step::CHROOT);
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; detach it from there.
    check(sys::pivot_root(".", "."), Step::PIVOT_ROOT);
    check(sys::fchdir((int)oldroot), Step::PIVOT_DETACH_OLD_ROOT);
    check(sys::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr), Step::PIVOT_DETACH_OLD_ROOT);
    check(sys::umount2(".", MNT_DETACH), Step::PIVOT_DETACH_OLD_ROOT);
  }
  check(sys::chdir("/"), Step::PIVOT_ROOT);
  close_checked(oldroot, Step::PIVOT_OPEN_OLD_ROOT);
  close_checked(newroot, Step::PIVOT_OPEN_ROOTFS);
}

}  // namespace

void setup_rootfs(const Plan *p) {
  const char *rootfs = str(p->rootfs);
  // Everything becomes a slave first, whatever rootfsPropagation says: no mount made in
  // the container can propagate back to the host, and the rootfs's parent mount is not
  // shared (pivot_root refuses that). rootfsPropagation itself is applied to the new "/"
  // at the very end (apply_root_propagation), where it cannot break the setup.
  check(sys::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr), Step::ROOTFS_SLAVE);
  check(sys::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr), Step::ROOTFS_BIND);
  g_rootfs = rootfs;
  open_root();

  for (uint32_t i = 0; i < p->mounts.count; i++) {
    set_index(i);
    do_mount(plan_at(p->mounts, i));
  }
  for (uint32_t i = 0; i < p->devices.count; i++) {
    set_index(i);
    make_device(plan_at(p->devices, i));
  }
  for (uint32_t i = 0; i < p->symlinks.count; i++) {
    set_index(i);
    make_symlink(plan_at(p->symlinks, i));
  }
  clear_index();
  const char *cwd = str(p->process.cwd);
  if (!kWeakenFds) close_checked(check(mkdir_all_in_root(g_root_fd, cwd, false, 0755), Step::CWD_MKDIR), Step::CWD_MKDIR);

  if (p->hooks_sync) {
    check(send_msg(MsgType::HOOKS, 0), Step::SYNC_HOOKS);
    check(wait_go(), Step::SYNC_HOOKS);
  }

  // LSM exec labels are written through this process's own /proc entry, opened while the
  // host's procfs is still reachable: by the time they are written, the container's /proc
  // is whatever the image and the mounts made of it (CVE-2019-16884).
  if (str(p->process.apparmor_profile) || str(p->process.selinux_label)) stash_proc_self();

  do_pivot_root(p);
  close_checked(g_root_fd, Step::ROOTFS_OPEN);
  g_root_fd = (int)check(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), Step::ROOTFS_OPEN);
}

void apply_root_propagation(const Plan *p) {
  // Last, after the read-only and masked paths: an unbindable root would refuse their binds.
  if (p->rootfs_propagation)
    check(sys::mount(nullptr, "/", nullptr, p->rootfs_propagation, nullptr), Step::ROOT_PROPAGATION);
}

void finalize_rootfs(const Plan *p) {
  // Read-only mounts that had to stay writable while targets were created inside them.
  for (uint32_t i = 0; i < p->mounts.count; i++) {
    const Mount &m = plan_at(p->mounts, i);
    if (!m.late_readonly) continue;
    set_index(i);
    long fd = check(open_in_root(g_root_fd, str(m.dest), 0), Step::MOUNT_REOPEN);
    check(setattr_fd((int)fd, MOUNT_ATTR_RDONLY, 0, 0, false), Step::LATE_READONLY);
    close_checked(fd, Step::MOUNT_REOPEN);
  }
  clear_index();
  if (p->root_readonly) check(setattr_fd(g_root_fd, MOUNT_ATTR_RDONLY, 0, 0, false), Step::ROOT_READONLY);
}

void apply_sysctls(const Plan *p) {
  if (!p->sysctls.count) return;
  // Writes go through the container's /proc: it must be a real procfs, not something a
  // volume or symlink put at /proc (CVE-2019-19921 class).
  long proc = check(open_in_root(g_root_fd, "/proc", O_DIRECTORY), Step::SYSCTL_PROC);
  if (!kWeakenProcfs && !on_procfs((int)proc)) die(Step::SYSCTL_PROC, EINVAL);
  for (uint32_t i = 0; i < p->sysctls.count; i++) {
    const Sysctl &s = plan_at(p->sysctls, i);
    set_index(i);
    char rel[512];
    str_copy(rel, sizeof rel, "sys/");
    if (!str_append(rel, sizeof rel, str(s.key))) die(Step::SYSCTL, ENAMETOOLONG);
    long fd = check(sys::openat2((int)proc, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
                    Step::SYSCTL);
    write_all_checked((int)fd, str(s.value), Step::SYSCTL);
    close_checked(fd, Step::SYSCTL);
  }
  clear_index();
  close_checked(proc, Step::SYSCTL_PROC);
}

void apply_readonly_paths(const Plan *p) {
  for (uint32_t i = 0; i < p->readonly_paths.count; i++) {
    const char *path = strv_at(p->readonly_paths, i);
    set_index(i);
    long fd = open_in_root(g_root_fd, path, 0);
    if (fd == -ENOENT) continue;
    check(fd, Step::READONLY_PATH);
    check(bind_fd_onto((int)fd, (int)fd, true), Step::READONLY_PATH);
    close_checked(fd, Step::READONLY_PATH);
    fd = check(open_in_root(g_root_fd, path, 0), Step::READONLY_PATH);
    check(setattr_fd((int)fd, MOUNT_ATTR_RDONLY, 0, 0, true), Step::READONLY_PATH);
    close_checked(fd, Step::READONLY_PATH);
  }
  clear_index();
}

void reopen_dev_null(const Plan *p) {
  // runc's reOpenDevNull: stdio left on the host's /dev/null is moved onto the container's,
  // so the container holds no file of the host's mounts (CRIU cannot checkpoint one). Only
  // where the runtime made /dev (it planned devices: /dev is not a bind of the host's),
  // and not with a terminal (stdio is the pty then).
  if (!p->devices.count || p->process.terminal) return;
  long null_fd = -1;
  for (int i = 0; i < 3; i++) {
    set_index((uint32_t)i);
    struct stat st;
    long rc = sys::fstatat(i, "", &st, AT_EMPTY_PATH);
    if (rc == -EBADF) continue;  // not open: nothing to move
    check(rc, Step::DEV_NULL_REOPEN);
    if (!is_null_device(st)) continue;
    if (null_fd < 0) null_fd = open_dev_null(O_RDWR, Step::DEV_NULL_REOPEN);
    check(sys::dup3((int)null_fd, i, 0), Step::DEV_NULL_REOPEN);
  }
  clear_index();
  if (null_fd >= 0) close_checked(null_fd, Step::DEV_NULL_REOPEN);
}

void apply_masked_paths(const Plan *p) {
  if (!p->masked_paths.count) return;
  // Files are masked with /dev/null: make sure it is the real null device and not a
  // symlink or file the image put there (CVE-2025-31133 class). The binds below use this
  // very fd, so nothing can be swapped in between.
  long null_fd = kWeakenProcfs ? check(open_in_root(g_root_fd, "/dev/null", 0), Step::MASK_NULL)
                               : open_dev_null(O_PATH, Step::MASK_NULL);
  struct stat st;
  for (uint32_t i = 0; i < p->masked_paths.count; i++) {
    const char *path = strv_at(p->masked_paths, i);
    set_index(i);
    long fd = open_in_root(g_root_fd, path, 0);
    if (fd == -ENOENT) continue;
    check(fd, Step::MASKED_PATH);
    check(sys::fstatat((int)fd, "", &st, AT_EMPTY_PATH), Step::MASKED_PATH);
    if (S_ISDIR(st.st_mode)) {
      // A fresh, empty, read-only tmpfs over the directory.
      long fs = check(sys::fsopen("tmpfs", FSOPEN_CLOEXEC), Step::MASK_TMPFS);
      check(sys::fsconfig((int)fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), Step::MASK_TMPFS);
      long tmpfs = check(sys::fsmount((int)fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY), Step::MASK_TMPFS);
      close_checked(fs, Step::MASK_TMPFS);
      check(sys::move_mount((int)tmpfs, "", (int)fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), Step::MASKED_PATH);
      close_checked(tmpfs, Step::MASK_TMPFS);
    } else {
      check(bind_fd_onto((int)null_fd, (int)fd, false), Step::MASKED_PATH);
    }
    close_checked(fd, Step::MASKED_PATH);
  }
  clear_index();
  close_checked(null_fd, Step::MASK_NULL);
}

}  // namespace tsr
