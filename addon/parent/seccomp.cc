// Seccomp compilation with libseccomp, in the runtime process.
//
// The profile arrives already translated by src/linux/seccomp.ts: actions are the
// kernel's SECCOMP_RET_* values (SCMP_ACT_*), operators are SCMP_CMP_* numbers,
// architectures are libseccomp's names. Here libseccomp resolves syscall names, builds
// the filter and exports it as classic BPF; the child only hands that program to
// seccomp(2), so nothing of libseccomp runs after clone().
#include <linux/filter.h>
#include <napi.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "napi_util.h"

namespace tsr {

namespace {

// Owns the libseccomp context for the duration of one compile.
struct Filter {
  scmp_filter_ctx ctx = nullptr;
  ~Filter() {
    if (ctx) seccomp_release(ctx);
  }
};

uint64_t read_u64(Napi::Value v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return (uint64_t)v.As<Napi::Number>().Int64Value();
  return 0;
}

uint32_t read_u32(Napi::Object o, const char *key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

std::string describe(int rc) { return strerror(rc < 0 ? -rc : rc); }

// libseccomp has no export-to-memory before 2.6: export into a memfd and read it back.
bool export_bpf(scmp_filter_ctx ctx, std::vector<unsigned char> &out, std::string &error) {
  int fd = memfd_create("tsrunc-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create: ") + strerror(errno);
    return false;
  }
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    error = "export the seccomp filter: " + describe(rc);
    close(fd);
    return false;
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    error = std::string("read the exported filter: ") + strerror(errno);
    close(fd);
    return false;
  }
  out.resize((size_t)size);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("read the exported filter: ") + strerror(n < 0 ? errno : EIO);
      close(fd);
      return false;
    }
    done += (size_t)n;
  }
  close(fd);
  return true;
}

// ---- runc's -ENOSYS stub ----
//
// A profile is written against some kernel: a syscall newer than any it names would get
// the default action (usually EPERM), and libc only falls back to older calls on ENOSYS
// (faccessat2 -> faccessat, clone3 -> clone). As runc does, for each architecture the
// profile lists, syscall numbers above the highest one the profile names return ENOSYS.
// The stub goes in front of libseccomp's program and falls through to it otherwise.

constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint32_t kEnosys = SCMP_ACT_ERRNO(ENOSYS);

enum Target : int { kNext = -1, kEnosysRet = -2, kFilter = -3 };

// One instruction with symbolic jump targets (kEnosysRet/kFilter/kNext or an absolute index).
struct Insn {
  uint16_t code;
  int jt, jf;
  uint32_t k;
};

struct ArchMax {
  uint32_t audit;      // AUDIT_ARCH_* as seccomp_data.arch carries it
  uint32_t max;        // highest syscall number the profile names (x32: with the x32 bit)
  bool x32;            // x32 shares AUDIT_ARCH_X86_64 and is told apart by the x32 bit
};

// The stub for these maxima, or empty when nothing needs it. Layout:
//   ld arch; per arch: jeq arch ? block : next-test; ...; ja filter;
//   blocks (ld nr; [jset x32]; jgt max -> enosys : filter); enosys: ret ENOSYS
std::vector<struct sock_filter> enosys_stub(const std::vector<ArchMax> &arches) {
  std::vector<uint32_t> audits;
  for (const ArchMax &a : arches) {
    bool seen = false;
    for (uint32_t x : audits) seen |= x == a.audit;
    if (!seen) audits.push_back(a.audit);
  }
  std::vector<struct sock_filter> out;
  if (audits.empty()) return out;

  std::vector<Insn> code;
  code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, 4});  // seccomp_data.arch
  std::vector<size_t> tests;
  for (size_t i = 0; i < audits.size(); i++) {
    tests.push_back(code.size());
    code.push_back({BPF_JMP | BPF_JEQ | BPF_K, 0 /* block, patched */, kNext, audits[i]});
  }
  code.push_back({BPF_JMP | BPF_JA | BPF_K, 0, 0, 0});  // no listed arch: on to the filter
  for (size_t i = 0; i < audits.size(); i++) {
    code[tests[i]].jt = (int)code.size();
    code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, 0});  // seccomp_data.nr
    const ArchMax *plain = nullptr, *x32 = nullptr;
    for (const ArchMax &a : arches) {
      if (a.audit != audits[i]) continue;
      (a.x32 ? x32 : plain) = &a;
    }
    if (audits[i] == AUDIT_ARCH_X86_64) {
      size_t jset = code.size();
      code.push_back({BPF_JMP | BPF_JSET | BPF_K, 0, 0, kX32Bit});
      code[jset].jf = (int)code.size();
      code.push_back(plain ? Insn{BPF_JMP | BPF_JGT | BPF_K, kEnosysRet, kFilter, plain->max}
                           : Insn{BPF_JMP | BPF_JA | BPF_K, 0, 0, 0});
      code[jset].jt = (int)code.size();
      code.push_back(x32 ? Insn{BPF_JMP | BPF_JGT | BPF_K, kEnosysRet, kFilter, x32->max}
                         : Insn{BPF_JMP | BPF_JA | BPF_K, 0, 0, 0});
    } else {
      if (audits[i] == AUDIT_ARCH_S390 || audits[i] == AUDIT_ARCH_S390X) {
        // Unknown large syscalls arrive as setup(2), number 0, on s390: ENOSYS for it.
        code.push_back({BPF_JMP | BPF_JEQ | BPF_K, kEnosysRet, (int)code.size() + 1, 0});
      }
      code.push_back({BPF_JMP | BPF_JGT | BPF_K, kEnosysRet, kFilter, plain ? plain->max : 0});
    }
  }
  size_t enosys_at = code.size();
  code.push_back({BPF_RET | BPF_K, 0, 0, kEnosys});
  size_t filter_at = code.size();
  // Resolve: conditional jumps are relative and 8-bit; unconditional ones (ja) 32-bit.
  for (size_t i = 0; i < code.size(); i++) {
    Insn &in = code[i];
    auto resolve = [&](int t) -> long {
      size_t to = t == kEnosysRet ? enosys_at : t == kFilter ? filter_at : t == kNext ? i + 1 : (size_t)t;
      return (long)to - (long)i - 1;
    };
    struct sock_filter f = {in.code, 0, 0, in.k};
    if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) == BPF_JA) {
      f.k = (uint32_t)resolve(kFilter);  // every unconditional jump here goes on to the filter
    } else if (BPF_CLASS(in.code) == BPF_JMP) {
      long jt = resolve(in.jt), jf = resolve(in.jf);
      if (jt < 0 || jt > 255 || jf < 0 || jf > 255) return {};  // too many arches: no stub
      f.jt = (uint8_t)jt;
      f.jf = (uint8_t)jf;
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace

Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  const struct scmp_version *v = seccomp_version();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("major", v->major);
  out.Set("minor", v->minor);
  out.Set("micro", v->micro);
  return out;
}

// seccompCompile({defaultAction, architectures, optimize, rules: [{syscall, action,
//   args: [{index, op, value, valueTwo}]}], enosysNames?}) -> {bpf, unknownSyscalls}
//
// A rule whose syscall libseccomp cannot resolve is skipped and named in unknownSyscalls
// (a profile written for a newer kernel or another architecture, as runc does).
Napi::Value SeccompCompile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return throw_type(env, "seccompCompile(profile)");
  Napi::Object in = info[0].As<Napi::Object>();

  Filter f;
  f.ctx = seccomp_init(read_u32(in, "defaultAction"));
  if (!f.ctx) return throw_error(env, "seccomp: invalid default action");

  std::vector<uint32_t> tokens;
  Napi::Value archesValue = in.Get("architectures");
  if (archesValue.IsArray()) {
    Napi::Array arches = archesValue.As<Napi::Array>();
    for (uint32_t i = 0; i < arches.Length(); i++) {
      std::string name = arches.Get(i).ToString().Utf8Value();
      uint32_t token = seccomp_arch_resolve_name(name.c_str());
      if (token == 0) return throw_error(env, "seccomp: architecture \"" + name + "\" is not supported by libseccomp");
      int rc = seccomp_arch_add(f.ctx, token);
      // EEXIST: the native architecture, which every filter starts with.
      if (rc < 0 && rc != -EEXIST) return throw_error(env, "seccomp: add architecture " + name + ": " + describe(rc));
      tokens.push_back(token);
    }
  }
  if (in.Get("optimize").ToBoolean()) {
    // A binary tree of syscall numbers instead of a linear list: long allow-lists
    // otherwise cost every system call hundreds of BPF instructions.
    seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  }

  Napi::Array unknown = Napi::Array::New(env);
  uint32_t n_unknown = 0;
  Napi::Value rulesValue = in.Get("rules");
  Napi::Array rules = rulesValue.IsArray() ? rulesValue.As<Napi::Array>() : Napi::Array::New(env);
  std::vector<scmp_arg_cmp> conds;
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").ToString().Utf8Value();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      unknown.Set(n_unknown++, Napi::String::New(env, name));
      continue;
    }
    conds.clear();
    Napi::Value argsValue = rule.Get("args");
    if (argsValue.IsArray()) {
      Napi::Array args = argsValue.As<Napi::Array>();
      for (uint32_t k = 0; k < args.Length(); k++) {
        Napi::Object a = args.Get(k).As<Napi::Object>();
        scmp_arg_cmp c = {};
        c.arg = read_u32(a, "index");
        c.op = (enum scmp_compare)read_u32(a, "op");
        c.datum_a = read_u64(a.Get("value"));
        c.datum_b = read_u64(a.Get("valueTwo"));
        conds.push_back(c);
      }
    }
    uint32_t action = read_u32(rule, "action");
    int rc = seccomp_rule_add_array(f.ctx, action, nr, (unsigned)conds.size(), conds.empty() ? nullptr : conds.data());
    if (rc < 0) {
      Napi::Error e = Napi::Error::New(env, "seccomp: add rule for " + name + ": " + describe(rc));
      e.Set("rule", Napi::Number::New(env, i));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  std::vector<unsigned char> bpf;
  std::string error;
  if (!export_bpf(f.ctx, bpf, error)) return throw_error(env, "seccomp: " + error);

  // The ENOSYS stub: every name of the profile counts for the maxima (also rules skipped
  // for having the default action), on the architectures the profile lists.
  Napi::Value namesValue = in.Get("enosysNames");
  if (namesValue.IsArray() && !tokens.empty()) {
    Napi::Array names = namesValue.As<Napi::Array>();
    std::vector<ArchMax> maxima;
    for (uint32_t token : tokens) {
      long max = -1;
      for (uint32_t i = 0; i < names.Length(); i++) {
        std::string name = names.Get(i).ToString().Utf8Value();
        int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
        if (nr >= 0 && nr > max) max = nr;
      }
      if (max < 0) continue;
      bool x32 = token == SCMP_ARCH_X32;
      maxima.push_back({x32 ? (uint32_t)AUDIT_ARCH_X86_64 : token, (uint32_t)max, x32});
    }
    std::vector<struct sock_filter> stub = enosys_stub(maxima);
    if (!stub.empty()) {
      const unsigned char *p = reinterpret_cast<const unsigned char *>(stub.data());
      bpf.insert(bpf.begin(), p, p + stub.size() * sizeof(struct sock_filter));
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<unsigned char>::Copy(env, bpf.data(), bpf.size()));
  out.Set("unknownSyscalls", unknown);
  return out;
}

}  // namespace tsr
