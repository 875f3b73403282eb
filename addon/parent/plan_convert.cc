// Conversion of the TypeScript ProcessPlan (src/native/plan-types.ts) into tsr::Plan.
// Field names here must match that file; a missing required field is a TypeError.
#include "plan_convert.h"

namespace tsr {

namespace {

// Small reader over one JS object that records the first error.
class Reader {
 public:
  Reader(Napi::Env env, Napi::Object obj, PlanStorage &st, std::string where)
      : env_(env), obj_(obj), st_(st), where_(std::move(where)) {}

  bool ok() const { return ok_; }

  Napi::Value get(const char *key) { return obj_.Get(key); }

  bool present(const char *key) {
    Napi::Value v = get(key);
    return !v.IsUndefined() && !v.IsNull();
  }

  const char *str(const char *key, bool required = false) {
    Napi::Value v = get(key);
    if (v.IsUndefined() || v.IsNull()) {
      if (required) fail(key, "string");
      return nullptr;
    }
    if (!v.IsString()) return fail(key, "string"), nullptr;
    return st_.keep(v.As<Napi::String>().Utf8Value());
  }

  int64_t num(const char *key, int64_t dflt) {
    Napi::Value v = get(key);
    if (v.IsUndefined() || v.IsNull()) return dflt;
    if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
    if (v.IsBigInt()) {
      bool lossless;
      return v.As<Napi::BigInt>().Int64Value(&lossless);
    }
    fail(key, "number");
    return dflt;
  }

  uint64_t u64(const char *key) {
    Napi::Value v = get(key);
    if (v.IsUndefined() || v.IsNull()) return 0;
    if (v.IsBigInt()) {
      bool lossless;
      return v.As<Napi::BigInt>().Uint64Value(&lossless);
    }
    if (v.IsNumber()) return (uint64_t)v.As<Napi::Number>().Int64Value();
    fail(key, "bigint");
    return 0;
  }

  bool flag(const char *key) {
    Napi::Value v = get(key);
    return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : false;
  }

  Napi::Array array(const char *key) {
    Napi::Value v = get(key);
    if (v.IsArray()) return v.As<Napi::Array>();
    if (!v.IsUndefined() && !v.IsNull()) fail(key, "array");
    return Napi::Array::New(env_, 0);
  }

  // NULL-terminated array of C strings.
  const char **strings(const char *key, uint32_t *count, size_t extra_front = 0) {
    Napi::Array arr = array(key);
    st_.string_arrays.emplace_back();
    auto &vec = st_.string_arrays.back();
    vec.assign(extra_front, nullptr);
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsString()) {
        fail(key, "array of strings");
        break;
      }
      vec.push_back(st_.keep(v.As<Napi::String>().Utf8Value()));
    }
    if (count) *count = arr.Length();
    vec.push_back(nullptr);
    return vec.data();
  }

  Reader child(const char *key) {
    Napi::Value v = get(key);
    if (!v.IsObject()) fail(key, "object");
    return Reader(env_, v.IsObject() ? v.As<Napi::Object>() : Napi::Object::New(env_), st_,
                  where_ + "." + key);
  }

  Reader element(Napi::Array arr, uint32_t i, const char *key) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) fail(key, "array of objects");
    return Reader(env_, v.IsObject() ? v.As<Napi::Object>() : Napi::Object::New(env_), st_,
                  where_ + "." + key + "[" + std::to_string(i) + "]");
  }

  void fail(const char *key, const char *want) {
    if (!ok_) return;
    ok_ = false;
    Napi::TypeError::New(env_, "native plan: " + where_ + "." + key + " must be a " + want)
        .ThrowAsJavaScriptException();
  }

  void absorb(const Reader &other) {
    if (!other.ok_) ok_ = false;
  }

 private:
  Napi::Env env_;
  Napi::Object obj_;
  PlanStorage &st_;
  std::string where_;
  bool ok_ = true;
};

void convert_process(Reader &r, PlanStorage &st) {
  ProcessSpec &p = st.plan.process;
  p.argv = r.strings("argv", nullptr);
  p.exec_path = r.str("execPath");
  uint32_t envc = 0;
  p.envp = r.strings("envp", &envc);
  p.path_env = r.str("pathEnv");
  p.home_slot = r.flag("resolveHome") && envc > 0 ? (int)envc - 1 : -1;
  p.cwd = r.str("cwd", true);
  p.uid = (uint32_t)r.num("uid", 0);
  p.gid = (uint32_t)r.num("gid", 0);
  p.umask = (int)r.num("umask", -1);
  Napi::Array gids = r.array("additionalGids");
  for (uint32_t i = 0; i < gids.Length(); i++) st.gids.push_back(gids.Get(i).As<Napi::Number>().Uint32Value());
  p.additional_gids = st.gids.data();
  p.n_additional_gids = (uint32_t)st.gids.size();
  p.set_groups = r.flag("setGroups");
  if (r.present("capabilities")) {
    Reader c = r.child("capabilities");
    p.set_caps = 1;
    p.cap_bounding = c.u64("bounding");
    p.cap_effective = c.u64("effective");
    p.cap_permitted = c.u64("permitted");
    p.cap_inheritable = c.u64("inheritable");
    p.cap_ambient = c.u64("ambient");
    r.absorb(c);
  }
  p.no_new_privileges = r.flag("noNewPrivileges");
  Napi::Array rl = r.array("rlimits");
  for (uint32_t i = 0; i < rl.Length(); i++) {
    Reader e = r.element(rl, i, "rlimits");
    st.rlimits.push_back(Rlimit{(int)e.num("resource", 0), e.u64("soft"), e.u64("hard")});
    r.absorb(e);
  }
  p.rlimits = st.rlimits.data();
  p.n_rlimits = (uint32_t)st.rlimits.size();
  p.has_oom_score_adj = r.present("oomScoreAdj");
  p.oom_score_adj = (int)r.num("oomScoreAdj", 0);
  if (r.present("seccomp")) {
    Reader s = r.child("seccomp");
    Napi::Value bpf = s.get("bpf");
    if (!bpf.IsBuffer()) {
      s.fail("bpf", "Buffer");
    } else {
      auto buf = bpf.As<Napi::Buffer<unsigned char>>();
      st.seccomp_bpf.assign(buf.Data(), buf.Data() + buf.Length());
      p.seccomp_bpf = st.seccomp_bpf.data();
      p.seccomp_len = (uint32_t)(buf.Length() / 8);  // sizeof(struct sock_filter)
    }
    p.seccomp_flags = (uint32_t)s.num("flags", 0);
    p.seccomp_notify = s.flag("notify");
    r.absorb(s);
  }
  p.terminal = r.flag("terminal");
  p.console_socket_fd = (int)r.num("consoleSocketFd", -1);
  p.console_rows = (uint16_t)r.num("consoleRows", 0);
  p.console_cols = (uint16_t)r.num("consoleCols", 0);
  Napi::Array stdio = r.array("stdioFds");
  for (uint32_t i = 0; i < 3; i++) {
    p.stdio_fds[i] = i < stdio.Length() ? stdio.Get(i).As<Napi::Number>().Int32Value() : -1;
  }
  p.preserve_fds = (uint32_t)r.num("preserveFds", 0);
  p.exec_fifo_fd = (int)r.num("execFifoFd", -1);
  p.personality = (int)r.num("personality", -1);
  if (r.present("scheduler")) {
    Reader s = r.child("scheduler");
    p.has_scheduler = 1;
    p.sched_policy = (uint32_t)s.num("policy", 0);
    p.sched_nice = (int32_t)s.num("nice", 0);
    p.sched_priority = (int32_t)s.num("priority", 0);
    p.sched_flags = s.u64("flags");
    p.sched_runtime = s.u64("runtime");
    p.sched_deadline = s.u64("deadline");
    p.sched_period = s.u64("period");
    r.absorb(s);
  }
  p.has_ioprio = r.present("ioPriority");
  p.ioprio = (int)r.num("ioPriority", 0);
  p.apparmor_profile = r.str("apparmorProfile");
  p.selinux_label = r.str("selinuxLabel");
  // Stub argv: {"tsrunc-init", fifo fd, <resolved path>, argv...}; slot 2 filled by the child.
  uint32_t argc = 0;
  const char **argv = r.strings("argv", &argc, 3);
  argv[0] = st.keep("tsrunc-init");
  argv[1] = st.keep(std::to_string(p.exec_fifo_fd));
  argv[2] = nullptr;
  p.stub_argv = argv;
}

}  // namespace

bool convert_plan(Napi::Env env, const Napi::Object &obj, PlanStorage &st) {
  Reader r(env, obj, st, "plan");
  Plan &plan = st.plan;

  Napi::Array joins = r.array("joins");
  for (uint32_t i = 0; i < joins.Length(); i++) {
    Reader j = r.element(joins, i, "joins");
    st.joins.push_back(NsJoin{(int)j.num("fd", -1), (int)j.num("nstype", 0), j.str("path", true)});
    r.absorb(j);
  }
  plan.joins = st.joins.data();
  plan.n_joins = (uint32_t)st.joins.size();
  plan.join_pidfd = (int)r.num("joinPidfd", -1);
  plan.join_pidfd_flags = (uint32_t)r.num("joinPidfdFlags", 0);
  plan.new_userns = r.flag("newUserns");
  plan.unshare_flags = (uint64_t)r.num("unshareFlags", 0);
  plan.timens_offsets = r.str("timensOffsets");
  plan.stage1_sync = r.flag("stage1Sync");

  plan.is_init = r.flag("isInit");
  plan.rootfs = r.str("rootfs");
  plan.rootfs_propagation = (unsigned long)r.num("rootfsPropagation", 0);
  plan.setup_mounts = r.flag("setupMounts");
  plan.no_pivot = r.flag("noPivot");

  Napi::Array mounts = r.array("mounts");
  for (uint32_t i = 0; i < mounts.Length(); i++) {
    Reader m = r.element(mounts, i, "mounts");
    Mount out{};
    out.kind = m.flag("bind") ? MOUNT_BIND : MOUNT_FS;
    out.create = m.flag("createFile") ? CREATE_FILE : CREATE_DIR;
    out.source = m.str("source");
    out.dest = m.str("dest", true);
    out.fstype = m.str("fstype");
    out.data = m.str("data");
    out.flags = (unsigned long)m.num("flags", 0);
    out.attr_set = m.u64("attrSet");
    out.attr_clr = m.u64("attrClr");
    out.rattr_set = m.u64("rattrSet");
    out.rattr_clr = m.u64("rattrClr");
    out.propagation = (uint32_t)m.num("propagation", 0);
    out.propagation_recursive = m.flag("propagationRecursive");
    out.late_readonly = m.flag("lateReadonly");
    out.tmpcopyup = m.flag("tmpcopyup");
    out.mount_fd = (int)m.num("mountFd", -1);
    out.target_no_symlinks = m.flag("noSymlinks");
    out.may_cover_proc = m.flag("mayCoverProc");
    st.mounts.push_back(out);
    r.absorb(m);
  }
  plan.mounts = st.mounts.data();
  plan.n_mounts = (uint32_t)st.mounts.size();

  Napi::Array devices = r.array("devices");
  for (uint32_t i = 0; i < devices.Length(); i++) {
    Reader d = r.element(devices, i, "devices");
    Device out{};
    out.path = d.str("path", true);
    out.mode = (uint32_t)d.num("mode", 0);
    out.major = (uint32_t)d.num("major", 0);
    out.minor = (uint32_t)d.num("minor", 0);
    out.uid = (uint32_t)d.num("uid", 0);
    out.gid = (uint32_t)d.num("gid", 0);
    out.bind_from_host = d.flag("bindFromHost");
    out.replace_existing = d.flag("replaceExisting");
    out.host_path = d.str("hostPath");
    st.devices.push_back(out);
    r.absorb(d);
  }
  plan.devices = st.devices.data();
  plan.n_devices = (uint32_t)st.devices.size();

  Napi::Array symlinks = r.array("symlinks");
  for (uint32_t i = 0; i < symlinks.Length(); i++) {
    Reader s = r.element(symlinks, i, "symlinks");
    st.symlinks.push_back(Symlink{s.str("target", true), s.str("path", true)});
    r.absorb(s);
  }
  plan.symlinks = st.symlinks.data();
  plan.n_symlinks = (uint32_t)st.symlinks.size();

  plan.hooks_sync = r.flag("hooksSync");
  plan.masked_paths = r.strings("maskedPaths", &plan.n_masked_paths);
  plan.readonly_paths = r.strings("readonlyPaths", &plan.n_readonly_paths);
  plan.root_readonly = r.flag("rootReadonly");
  plan.hostname = r.str("hostname");
  plan.domainname = r.str("domainname");
  Napi::Array sysctls = r.array("sysctls");
  for (uint32_t i = 0; i < sysctls.Length(); i++) {
    Reader s = r.element(sysctls, i, "sysctls");
    st.sysctls.push_back(KeyValue{s.str("key", true), s.str("value", true)});
    r.absorb(s);
  }
  plan.sysctls = st.sysctls.data();
  plan.n_sysctls = (uint32_t)st.sysctls.size();
  plan.new_session_keyring = r.flag("newSessionKeyring");
  plan.keyring_name = r.str("keyringName");
  plan.mount_label = r.str("mountLabel");

  Reader proc = r.child("process");
  convert_process(proc, st);
  r.absorb(proc);

  const char *stub = r.str("stubPath", true);
  if (stub) st.stub_path = stub;
  return r.ok();
}

}  // namespace tsr
