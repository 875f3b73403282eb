// Seccomp compilation with libseccomp (the profile is compiled in the parent; the child
// only loads the exported BPF). Filled in by the confinement work; for now, the ABI probe.
#include <napi.h>
#include <seccomp.h>

namespace tsr {

Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  const struct scmp_version *v = seccomp_version();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("major", v->major);
  out.Set("minor", v->minor);
  out.Set("micro", v->micro);
  return out;
}

}  // namespace tsr
