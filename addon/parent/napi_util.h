// Helpers for throwing JavaScript errors from the parent side of the addon.
#pragma once

#include <napi.h>
#include <string.h>

#include <string>

namespace tsr {

// Error with .errno (number) and .code ("ENOENT"...) so TypeScript can map it.
inline Napi::Value throw_errno(Napi::Env env, int err, const std::string &what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  const char *name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.Set("syscall", Napi::String::New(env, what));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value throw_error(Napi::Env env, const std::string &msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value throw_type(Napi::Env env, const std::string &msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline int arg_int(const Napi::CallbackInfo &info, size_t i, int dflt = -1) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : dflt;
}

}  // namespace tsr
