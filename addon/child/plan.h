// The plan inside the child: the generated wire records (addon/generated/protocol.h) read in
// place from the mapped plan, through the accessors below, once load_plan() has checked it.
#pragma once

#include "../generated/protocol.h"

namespace tsr {

using proto::Capabilities;
using proto::Device;
using proto::Mount;
using proto::MsgType;
using proto::NsJoin;
using proto::Plan;
using proto::Process;
using proto::Rlimit;
using proto::Step;
using proto::Symlink;
using proto::Sysctl;

// The mapped plan (a private copy: the child writes the pointer arrays of string lists).
extern uint8_t *g_plan_base;
extern const char *g_plan_strings;

inline const char *str(const proto::Str &s) { return s.off == proto::kNullRef ? nullptr : g_plan_strings + s.off; }
template <typename T>
inline const T &plan_at(const proto::Vec<T> &v, uint32_t i) {
  return reinterpret_cast<const T *>(g_plan_base + v.off)[i];
}
// A string list as the NULL-terminated array execve(2) takes.
inline const char *const *strv(const proto::Strv &v) { return reinterpret_cast<const char *const *>(g_plan_base + v.off); }
inline const char *strv_at(const proto::Strv &v, uint32_t i) { return strv(v)[i]; }
// The `headroom` slots in front of a list (plan.json), for the child to fill.
inline const char **strv_headroom(const proto::Strv &v, uint32_t headroom) {
  return reinterpret_cast<const char **>(g_plan_base + v.off) - headroom;
}
inline const void *blob(const proto::Blob &b) { return g_plan_base + b.off; }

// Map the plan from fd and check all of it; reports (and exits) when it is unusable.
const Plan *load_plan(int fd);

// Checks a plan in the serializer's order (used by the generated protocol_check.h).
class PlanChecker {
 public:
  // The first allocation (the root record) starts at `start`, right after the header.
  PlanChecker(uint8_t *base, uint32_t size, uint32_t strings_off, uint32_t start)
      : base_(base), size_(size), strings_off_(strings_off), cursor_(start) {}

  bool fail(proto::Field f) {
    field_ = f;
    return false;
  }
  // The next allocation must start at `off` and fit before the string table.
  bool take(uint32_t off, uint64_t len, proto::Field f);
  bool zero(const void *p, size_t len, proto::Field f);
  bool str(const proto::Str &s, bool nullable, proto::Field f);
  // Checks a string list and turns its slots into the pointer array strv() returns.
  bool strv(proto::Strv &v, uint32_t headroom, proto::Field f);
  bool blob(const proto::Blob &b, uint32_t multiple_of, uint32_t max_len, proto::Field f);
  template <typename T>
  bool vec(const proto::Vec<T> &v, uint32_t max_count, proto::Field f) {
    if (v.count > max_count) return fail(f);
    return take(v.off, (uint64_t)v.count * sizeof(T), f);
  }
  template <typename T>
  T &at(const proto::Vec<T> &v, uint32_t i) {
    return reinterpret_cast<T *>(base_ + v.off)[i];
  }
  // Everything up to the string table was accounted for.
  bool finished() const;
  proto::Field field() const { return field_; }

 private:
  uint8_t *base_;
  uint32_t size_, strings_off_;
  uint64_t cursor_;
  proto::Field field_ = proto::Field::Plan_layout;
};

}  // namespace tsr

#include "../generated/protocol_check.h"
