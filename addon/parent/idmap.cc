// Id-mapped mounts, prepared in the runtime before the fork (src/linux/idmap-mounts.ts):
//
//   usernsFd(uidMap, gidMap)            a user namespace with these maps, as an fd
//   idmappedTree(source, userns, ...)   a detached clone of `source` id-mapped through it
//
// The mapping must be done here, in the host's user namespace: mount_setattr(2) wants
// CAP_SYS_ADMIN over the file system's own user namespace, which a container in a user
// namespace of its own does not have. The child only moves the prepared mount into place.
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "child_program.h"
#include "napi_util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace tsr {

namespace {

int write_proc(pid_t pid, const char *file, const std::string &text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int err = n == (ssize_t)text.size() ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

}  // namespace

// usernsFd(uidMapText, gidMapText) -> fd of a new user namespace with those maps.
// The child program is started straight into a new user namespace and parks (no copy of
// the runtime, as for every other child); the maps are written from here, its namespace is
// opened, and it is killed and reaped.
Napi::Value UsernsFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) return throw_type(env, "usernsFd(uidMap, gidMap)");
  std::string uid_map = info[0].As<Napi::String>().Utf8Value();
  std::string gid_map = info[1].As<Napi::String>().Utf8Value();

  std::string error;
  int program = sealed_copy(programs_dir() + "/tsrunc-child", "tsrunc-child", true, error);
  if (program < 0) return throw_error(env, error);
  Started child;
  bool ok = start_program(program, {"tsrunc-child", "park", std::to_string(getpid())}, {}, CLONE_NEWUSER, child, error);
  close(program);
  if (!ok) return throw_error(env, error);

  int err = write_proc(child.pid, "uid_map", uid_map);
  const char *what = "write uid_map";
  if (!err) {
    err = write_proc(child.pid, "gid_map", gid_map);
    what = "write gid_map";
  }
  int ns = -1;
  if (!err) {
    std::string path = "/proc/" + std::to_string(child.pid) + "/ns/user";
    ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) err = errno, what = "open the user namespace";
  }
  syscall(SYS_pidfd_send_signal, child.pidfd, SIGKILL, nullptr, 0);
  siginfo_t si;
  while (waitid((idtype_t)P_PIDFD, (id_t)child.pidfd, &si, WEXITED) < 0 && errno == EINTR) {
  }
  close(child.pidfd);
  if (err) {
    if (ns >= 0) close(ns);
    return throw_errno(env, err, what);
  }
  return Napi::Number::New(env, ns);
}

// idmappedTree(source, usernsFd, rbind, ridmap) -> fd of a detached, id-mapped clone of
// source: the clone takes the submounts along with rbind, the mapping applies to them too
// with ridmap (otherwise to the top mount only). usernsFd -1: a plain clone, not mapped
// (a bind source a container's user namespace could not reach by path).
Napi::Value IdmappedTree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString()) return throw_type(env, "idmappedTree(source, usernsFd, rbind, ridmap)");
  std::string source = info[0].As<Napi::String>().Utf8Value();
  int userns = arg_int(info, 1);
  unsigned clone_rec = info[2].ToBoolean() ? AT_RECURSIVE : 0;
  unsigned idmap_rec = info[3].ToBoolean() ? AT_RECURSIVE : 0;
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | clone_rec);
  if (tree < 0) return throw_errno(env, errno, "open_tree");
  if (userns < 0) return Napi::Number::New(env, tree);
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)userns;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | idmap_rec, &attr, sizeof attr) < 0) {
    int err = errno;
    close(tree);
    return throw_errno(env, err, "mount_setattr");
  }
  return Napi::Number::New(env, tree);
}

// deviceNodeTree(mode, major, minor, uid, gid) -> fd of a detached bind mount of a device
// node made here, on a private, unattached tmpfs, owned by uid:gid (host ids). For a
// container with a user namespace, where mknod is refused: its devices are made by the
// runtime, with the numbers, mode and owner the config gives, whatever the host's /dev has
// (crun's precreate_device). The child moves the mount into place.
Napi::Value DeviceNodeTree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5) return throw_type(env, "deviceNodeTree(mode, major, minor, uid, gid)");
  unsigned mode = info[0].As<Napi::Number>().Uint32Value();
  unsigned major = info[1].As<Napi::Number>().Uint32Value(), minor = info[2].As<Napi::Number>().Uint32Value();
  unsigned uid = info[3].As<Napi::Number>().Uint32Value(), gid = info[4].As<Napi::Number>().Uint32Value();
  int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return throw_errno(env, errno, "fsopen tmpfs");
  int err = 0;
  const char *what = "fsconfig";
  int mnt = -1, tree = -1;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) err = errno;
  if (!err && (mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) < 0) err = errno, what = "fsmount";
  if (!err && mknodat(mnt, "node", mode, makedev(major, minor)) < 0) err = errno, what = "mknod";
  if (!err && fchownat(mnt, "node", uid, gid, AT_SYMLINK_NOFOLLOW) < 0) err = errno, what = "chown";
  // mknod applied the umask: give the node exactly the config's mode.
  if (!err && fchmodat(mnt, "node", mode & 07777, 0) < 0) err = errno, what = "chmod";
  if (!err && (tree = (int)syscall(SYS_open_tree, mnt, "node", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) err = errno, what = "open_tree";
  if (mnt >= 0) close(mnt);
  close(fs);
  if (err) return throw_errno(env, err, what);
  return Napi::Number::New(env, tree);
}

}  // namespace tsr
