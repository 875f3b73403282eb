// The container's root filesystem: mounts in order, devices, symlinks, the hooks pause,
// pivot_root; then, inside the new root, read-only and masked paths.
//
// Every target is resolved inside the rootfs (inroot.cc) and mounted through its fd, so
// a symlink in the image cannot send a mount, a device node or a mask onto the host.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>

#include "child.h"
#include "mountfd.h"
#include "sys.h"
#include "weaken.h"

namespace tsr {

namespace {

int g_root_fd = -1;  // O_PATH fd of the rootfs mount (host path before pivot_root, "/" after)

// Split "/a/b/c" into the directory fd of "/a/b" (created if missing) and "c".
int open_parent(const char *path, char *name, size_t name_cap) {
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

int reopen(const char *dest) {
  int fd = open_in_root(g_root_fd, dest, 0);
  if (fd < 0) die("open mount", dest, -fd);
  return fd;
}

// Mount attributes and propagation on the mount now at `dest`.
void apply_mount_attrs(const Mount &m) {
  if (!(m.attr_set | m.attr_clr | m.rattr_set | m.rattr_clr | m.propagation)) return;
  int fd = reopen(m.dest);
  int err = 0;
  if (m.rattr_set | m.rattr_clr) err = setattr_fd(fd, m.rattr_set, m.rattr_clr, 0, true);
  if (!err && (m.attr_set | m.attr_clr)) err = setattr_fd(fd, m.attr_set, m.attr_clr, 0, false);
  if (err) die("mount_setattr", m.dest, err);
  if (m.propagation) {
    err = setattr_fd(fd, 0, 0, m.propagation, m.propagation_recursive != 0);
    if (err) die("mount propagation", m.dest, err);
  }
  close(fd);
}

bool on_procfs(int fd) {
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

// procfs and sysfs targets: no symlink anywhere on the way, not even one that stays inside
// the rootfs, and a directory (runc: "must be mounted on ordinary directory"). An image
// with /proc -> somewhere would otherwise decide where procfs lands (CVE-2019-16884).
int strict_target(const Mount &m) {
  int fd = open_in_root_flags(g_root_fd, m.dest, 0, RESOLVE_NO_SYMLINKS);
  if (fd == -ENOENT) {
    int made = mkdir_all_in_root(g_root_fd, m.dest, false, 0755);
    if (made < 0) die("mount target", m.dest, -made);
    close(made);
    fd = open_in_root_flags(g_root_fd, m.dest, 0, RESOLVE_NO_SYMLINKS);
  }
  if (fd == -ELOOP) die("ordinary directory", m.dest, ELOOP);
  if (fd < 0) die("mount target", m.dest, -fd);
  struct stat st;
  if (fstat(fd, &st) < 0) die("mount target", m.dest, errno);
  if (!S_ISDIR(st.st_mode)) die("ordinary directory", m.dest, ENOTDIR);
  return fd;
}

void do_mount(const Mount &m) {
  int target;
  if (m.target_no_symlinks && !kWeakenProcfs) {
    target = strict_target(m);
  } else {
    target = mkdir_all_in_root(g_root_fd, m.dest, m.create == CREATE_FILE, 0755);
    if (target < 0) die("mount target", m.dest, -target);
  }
  // Only a proc mount at /proc (or an allowed lxcfs-style file) may cover procfs: a volume
  // whose target a symlink sends into /proc would hide the real one (CVE-2019-19921).
  if (!m.may_cover_proc && !kWeakenProcfs && on_procfs(target)) die("mount over proc", m.dest, EPERM);
  FdPath at(target);
  if (m.mount_fd >= 0) {
    // Prepared by the runtime (an id-mapped clone of the source): attach it here.
    if (sys_move_mount(m.mount_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      die("move_mount", m.dest, errno);
    close(m.mount_fd);
  } else if (m.kind == MOUNT_BIND) {
    if (mount(m.source, at.c_str(), nullptr, MS_BIND | (m.flags & MS_REC), nullptr) < 0)
      die("bind mount", m.dest, errno);
  } else {
    if (mount(m.source, at.c_str(), m.fstype, m.flags, m.data) < 0) die("mount", m.dest, errno);
  }
  close(target);
  apply_mount_attrs(m);
}

// Devices: mknod, or in a user namespace (where mknod is refused) a bind of the host node.
void make_device(const Device &d) {
  if (d.bind_from_host) {
    int target = mkdir_all_in_root(g_root_fd, d.path, true, 0755);
    if (target < 0) die("device target", d.path, -target);
    if (!kWeakenProcfs && on_procfs(target)) die("device target", d.path, EPERM);
    FdPath at(target);
    if (mount(d.host_path, at.c_str(), nullptr, MS_BIND, nullptr) < 0) die("bind device", d.path, errno);
    close(target);
    return;
  }
  char name[256];
  int dir = open_parent(d.path, name, sizeof name);
  if (dir < 0) die("device directory", d.path, -dir);
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    bool same = (st.st_mode & S_IFMT) == (d.mode & S_IFMT) &&
                ((d.mode & S_IFMT) == S_IFIFO || st.st_rdev == makedev(d.major, d.minor));
    if (!d.replace_existing && !same) die("device exists", d.path, EEXIST);
    if (unlinkat(dir, name, 0) < 0) die("replace device", d.path, errno);
  }
  if (mknodat(dir, name, d.mode, makedev(d.major, d.minor)) < 0) die("mknod", d.path, errno);
  if (fchownat(dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0) die("chown device", d.path, errno);
  close(dir);
}

void make_symlink(const Symlink &s) {
  char name[256];
  int dir = open_parent(s.path, name, sizeof name);
  if (dir < 0) die("symlink directory", s.path, -dir);
  // Replace whatever the image has there (runc does the same for /dev/ptmx).
  if (unlinkat(dir, name, 0) < 0 && errno != ENOENT && errno != EISDIR) die("symlink", s.path, errno);
  if (symlinkat(s.target, dir, name) < 0 && errno != EEXIST) die("symlink", s.path, errno);
  close(dir);
}

void do_pivot_root(const Plan *p) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) die("pivot_root", "open /", errno);
  int newroot = open(p->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) die("pivot_root", p->rootfs, errno);
  if (fchdir(newroot) < 0) die("pivot_root", "chdir into the rootfs", errno);
  if (p->no_pivot) {
    // --no-pivot: move the rootfs over "/" and chroot into it (for ramdisk roots).
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) die("move rootfs", p->rootfs, errno);
    if (chroot(".") < 0) die("chroot", p->rootfs, errno);
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; detach it from there.
    if (sys_pivot_root(".", ".") < 0) die("pivot_root", p->rootfs, errno);
    if (fchdir(oldroot) < 0) die("pivot_root", "chdir to the old root", errno);
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
      die("pivot_root", "make the old root a slave", errno);
    if (umount2(".", MNT_DETACH) < 0) die("pivot_root", "detach the old root", errno);
  }
  if (chdir("/") < 0) die("pivot_root", "chdir /", errno);
  close(oldroot);
  close(newroot);
}

}  // namespace

void setup_rootfs(const Plan *p) {
  // Everything becomes a slave first, whatever rootfsPropagation says: no mount made in
  // the container can propagate back to the host, and the rootfs's parent mount is not
  // shared (pivot_root refuses that). rootfsPropagation itself is applied to the new "/"
  // at the very end (apply_root_propagation), where it cannot break the setup.
  if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) die("rootfs propagation", "/", errno);
  if (mount(p->rootfs, p->rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0)
    die("bind rootfs", p->rootfs, errno);
  g_root_fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root_fd < 0) die("open rootfs", p->rootfs, errno);

  for (uint32_t i = 0; i < p->n_mounts; i++) {
    child_set_index(i);
    do_mount(p->mounts[i]);
  }
  child_set_index(kNoIndex);
  for (uint32_t i = 0; i < p->n_devices; i++) {
    child_set_index(i);
    make_device(p->devices[i]);
  }
  child_set_index(kNoIndex);
  for (uint32_t i = 0; i < p->n_symlinks; i++) make_symlink(p->symlinks[i]);
  if (p->process.cwd && !kWeakenFds) {
    int cwd = mkdir_all_in_root(g_root_fd, p->process.cwd, false, 0755);
    if (cwd < 0) die("mkdir cwd", p->process.cwd, -cwd);
    close(cwd);
  }

  if (p->hooks_sync) {
    if (!send_msg(MSG_HOOKS, 0, 0, "hooks", "")) _exit(1);
    if (wait_parent() != MSG_GO) _exit(1);
  }

  // LSM exec labels are written through this process's own /proc entry, opened while the
  // host's procfs is still reachable: by the time they are written, the container's /proc
  // is whatever the image and the mounts made of it (CVE-2019-16884).
  if (p->process.apparmor_profile || p->process.selinux_label) stash_proc_self();

  do_pivot_root(p);
  close(g_root_fd);
  g_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root_fd < 0) die("open /", "/", errno);
}

void apply_root_propagation(const Plan *p) {
  // Last, after the read-only and masked paths: an unbindable root would refuse their binds.
  unsigned long rp = p->rootfs_propagation;
  if (rp && mount(nullptr, "/", nullptr, rp, nullptr) < 0) die("rootfs propagation", "/", errno);
}

void finalize_rootfs(const Plan *p) {
  // Read-only mounts that had to stay writable while targets were created inside them.
  for (uint32_t i = 0; i < p->n_mounts; i++) {
    const Mount &m = p->mounts[i];
    if (!m.late_readonly) continue;
    child_set_index(i);
    int fd = reopen(m.dest);
    int err = setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, 0, false);
    if (err) die("remount read-only", m.dest, err);
    close(fd);
  }
  child_set_index(kNoIndex);
  if (p->root_readonly) {
    int err = setattr_fd(g_root_fd, MOUNT_ATTR_RDONLY, 0, 0, false);
    if (err) die("remount read-only", "/", err);
  }
}

void apply_sysctls(const Plan *p) {
  if (!p->n_sysctls) return;
  // Writes go through the container's /proc: it must be a real procfs, not something a
  // volume or symlink put at /proc (CVE-2019-19921 class).
  int proc = open_in_root(g_root_fd, "/proc", O_DIRECTORY);
  if (proc < 0) die("sysctl", "/proc", -proc);
  if (!kWeakenProcfs && !on_procfs(proc)) die("sysctl", "/proc is not procfs", EINVAL);
  for (uint32_t i = 0; i < p->n_sysctls; i++) {
    child_set_index(i);
    char rel[512];
    str_copy(rel, sizeof rel, "sys/");
    if (!str_append(rel, sizeof rel, p->sysctls[i].key)) die("sysctl", p->sysctls[i].key, ENAMETOOLONG);
    int fd = sys_openat2(proc, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    if (fd < 0) die("sysctl", p->sysctls[i].key, errno);
    const char *v = p->sysctls[i].value;
    if (!write_all(fd, v, str_len(v))) die("sysctl", p->sysctls[i].key, errno);
    close(fd);
  }
  child_set_index(kNoIndex);
  close(proc);
}

void apply_readonly_paths(const Plan *p) {
  for (uint32_t i = 0; i < p->n_readonly_paths; i++) {
    const char *path = p->readonly_paths[i];
    child_set_index(i);
    int fd = open_in_root(g_root_fd, path, 0);
    if (fd == -ENOENT) continue;
    if (fd < 0) die("readonly path", path, -fd);
    int err = bind_fd_onto(fd, fd, true);
    close(fd);
    if (err) die("readonly path", path, err);
    fd = reopen(path);
    err = setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, 0, true);
    if (err) die("readonly path", path, err);
    close(fd);
  }
  child_set_index(kNoIndex);
}

void reopen_dev_null(const Plan *p) {
  // As runc does: stdio left on the host's /dev/null is reopened on the container's, so the
  // container holds no file of the host's mounts (CRIU could not checkpoint it). Only when
  // /dev is ours (not a bind of the host's).
  if (!p->n_devices) return;
  int null_fd = -1;
  for (int i = 0; i < 3; i++) {
    struct stat st;
    if (fstat(i, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) continue;
    if (null_fd < 0) {
      null_fd = sys_openat2(g_root_fd, "dev/null", O_RDWR | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
      if (null_fd < 0) die("reopen /dev/null", "/dev/null", errno);
      if (fstat(null_fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        die("reopen /dev/null", "/dev/null is not the null device", EPERM);
    }
    if (dup3(null_fd, i, 0) < 0) die("reopen /dev/null", "dup3", errno);
  }
  if (null_fd >= 0) close(null_fd);
}

void apply_masked_paths(const Plan *p) {
  if (!p->n_masked_paths) return;
  // Files are masked with /dev/null: make sure it is the real null device and not a
  // symlink or file the image put there (CVE-2025-31133 class). The binds below use this
  // very fd, so nothing can be swapped in between.
  struct stat st;
  int null_fd;
  if (kWeakenProcfs) {
    null_fd = open_in_root(g_root_fd, "/dev/null", 0);
    if (null_fd < 0) die("masked path", "/dev/null", -null_fd);
  } else {
    null_fd = sys_openat2(g_root_fd, "dev/null", O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    if (null_fd < 0) die("masked path", errno == ELOOP ? "/dev/null is a symlink, not the null device" : "/dev/null", errno);
    if (fstat(null_fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
      die("masked path", "/dev/null is not the null device", EPERM);
  }
  for (uint32_t i = 0; i < p->n_masked_paths; i++) {
    const char *path = p->masked_paths[i];
    child_set_index(i);
    int fd = open_in_root(g_root_fd, path, 0);
    if (fd == -ENOENT) continue;
    if (fd < 0) die("masked path", path, -fd);
    if (fstat(fd, &st) < 0) die("masked path", path, errno);
    int err;
    if (S_ISDIR(st.st_mode)) {
      // A fresh, empty, read-only tmpfs over the directory.
      int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
      if (fs < 0) die("masked path", "fsopen tmpfs", errno);
      if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        die("masked path", "create tmpfs", errno);
      int tmpfs = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
      if (tmpfs < 0) die("masked path", "fsmount tmpfs", errno);
      close(fs);
      err = sys_move_mount(tmpfs, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? errno : 0;
      close(tmpfs);
    } else {
      err = bind_fd_onto(null_fd, fd, false);
    }
    close(fd);
    if (err) die("masked path", path, err);
  }
  child_set_index(kNoIndex);
  close(null_fd);
}

}  // namespace tsr
