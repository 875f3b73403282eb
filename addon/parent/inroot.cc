// Paths inside a container's root, from the runtime: the child program's symlink-safe
// mkdir (addon/child/inroot.cc, every lookup RESOLVE_IN_ROOT, linked into the addon too),
// for restore, which must make the mount points of a new root filesystem before CRIU mounts
// onto them.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "../child/inroot.h"
#include "napi_util.h"

namespace tsr {

// mkdirInRoot(rootfs, path, file) : make `path` (and its parents) under rootfs, the last
// component an empty file when `file`; what exists is left as it is.
Napi::Value MkdirInRoot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString())
    return throw_type(env, "mkdirInRoot(rootfs: string, path: string, file: boolean)");
  std::string root = info[0].As<Napi::String>().Utf8Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  bool file = info[2].ToBoolean().Value();
  int root_fd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return throw_errno(env, errno, "open " + root);
  long fd = mkdir_all_in_root(root_fd, path.c_str(), file, 0755);
  close(root_fd);
  if (fd < 0) return throw_errno(env, (int)-fd, "mkdir " + path);
  close((int)fd);
  return env.Undefined();
}

}  // namespace tsr
