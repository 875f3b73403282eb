// eventfd(2) for the cgroup v1 OOM notification (cgroup.event_control): the kernel signals
// the eventfd when the memory cgroup runs out of memory, and when the cgroup goes away.
#include <errno.h>
#include <sys/eventfd.h>

#include "napi_util.h"

namespace tsr {

// eventfd() -> fd (close-on-exec, blocking: readers poll it first).
Napi::Value Eventfd(const Napi::CallbackInfo &info) {
  int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return throw_errno(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace tsr
