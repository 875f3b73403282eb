// cgroup v2 device control: BPF_PROG_TYPE_CGROUP_DEVICE programs attached to a cgroup
// (the resources issue fills this in).
#include <napi.h>

namespace tsr {}  // namespace tsr
