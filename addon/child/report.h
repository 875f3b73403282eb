// Reporting to the runtime over the SOCK_SEQPACKET sync socket: every failure of the child
// becomes {step, errno, index} (addon/protocol/plan.json) before it exits.
#pragma once

#include "plan.h"

namespace tsr {

constexpr uint32_t kNoIndex = proto::kNoIndex;

void report_init(int sync_fd);
int sync_fd();
// The plan entry (mount, device, masked path...) the current step works on.
void set_index(uint32_t index);
inline void clear_index() { set_index(kNoIndex); }

// Report the failure of `step` (err: an errno, or a negative kernel result) and exit.
[[noreturn]] void die(Step step, long err);
[[noreturn]] void die_at(Step step, long err, uint32_t index);
// A failure runc only warns about: reported, and the child goes on.
void warn(Step step, long err, uint32_t index);

// A system call's result, or the report of its failure as `step`.
inline long check(long rc, Step step) {
  if (rc < 0) die(step, -rc);
  return rc;
}

// 0, or -errno.
long send_msg(MsgType type, int pid);
long send_msg_fd(MsgType type, int fd);
// Waits for the runtime's GO: 0, or -errno (-EPIPE when the runtime closed the socket).
long wait_go();

}  // namespace tsr
