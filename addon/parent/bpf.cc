// cgroup v2 device control: BPF_PROG_TYPE_CGROUP_DEVICE programs attached to a cgroup.
// The program itself is generated in TypeScript (src/linux/cgroups/device-bpf.ts) as raw
// instructions; this file only does the bpf(2) calls: load, attach, query, detach.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "napi_util.h"

namespace tsr {

namespace {

long sys_bpf(int cmd, union bpf_attr *attr) {
  long r;
  do {
    r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
  } while (r < 0 && errno == EINTR);
  return r;
}

int arg_fd(const Napi::CallbackInfo &info, size_t i) { return arg_int(info, i, -1); }

}  // namespace

// bpfDeviceProgramLoad(insns: Buffer) -> prog fd (close-on-exec). On a verifier refusal the
// error message carries the verifier's log, which names the bad instruction.
Napi::Value BpfDeviceProgramLoad(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) return throw_type(env, "bpfDeviceProgramLoad(insns: Buffer)");
  Napi::Buffer<uint8_t> insns = info[0].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    return throw_type(env, "bpfDeviceProgramLoad: instructions must be a non-empty multiple of 8 bytes");
  }
  static const char license[] = "Apache";
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns.Data();
  attr.insn_cnt = (uint32_t)(insns.Length() / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t)license;
  long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, (double)fd);
  int err = errno;
  if (err != EINVAL && err != EACCES) return throw_errno(env, err, "bpf(BPF_PROG_LOAD)");
  // Load again with the verifier log to say why.
  std::vector<char> log(64 * 1024);
  attr.log_level = 1;
  attr.log_buf = (uint64_t)(uintptr_t)log.data();
  attr.log_size = (uint32_t)log.size();
  fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, (double)fd);
  err = errno;
  log.back() = '\0';
  std::string text(log.data());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char &c : text)
    if (c == '\n') c = ';';
  return throw_errno(env, err, text.empty() ? "bpf(BPF_PROG_LOAD)" : "bpf(BPF_PROG_LOAD) [" + text + "]");
}

// bpfDeviceProgramAttach(cgroupFd, progFd): added to the cgroup's device programs
// (BPF_F_ALLOW_MULTI, so programs of parents and earlier ones keep running as well).
Napi::Value BpfDeviceProgramAttach(const Napi::CallbackInfo &info) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)arg_fd(info, 0);
  attr.attach_bpf_fd = (uint32_t)arg_fd(info, 1);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) return throw_errno(info.Env(), errno, "bpf(BPF_PROG_ATTACH)");
  return info.Env().Undefined();
}

// bpfDeviceProgramQuery(cgroupFd) -> ids of the device programs attached to this cgroup itself.
Napi::Value BpfDeviceProgramQuery(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t ids[64];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)arg_fd(info, 0);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = sizeof ids / sizeof ids[0];
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return throw_errno(env, errno, "bpf(BPF_PROG_QUERY)");
  uint32_t n = attr.query.prog_cnt;
  if (n > sizeof ids / sizeof ids[0]) n = sizeof ids / sizeof ids[0];
  Napi::Array out = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

// bpfDeviceProgramDetach(cgroupFd, progId): detach one program, named by its id.
Napi::Value BpfDeviceProgramDetach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = (uint32_t)arg_int(info, 1, 0);
  long progFd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (progFd < 0) return throw_errno(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)");
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)arg_fd(info, 0);
  attr.attach_bpf_fd = (uint32_t)progFd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  long r = sys_bpf(BPF_PROG_DETACH, &attr);
  int err = errno;
  close((int)progFd);
  if (r < 0) return throw_errno(env, err, "bpf(BPF_PROG_DETACH)");
  return env.Undefined();
}

}  // namespace tsr
