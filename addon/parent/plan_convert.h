// JavaScript plan object -> the flat C Plan the child walks.
//
// Runs in the parent, before clone(): here allocation is fine. PlanStorage owns every
// string and array the Plan points into and must outlive the clone() call.
#pragma once

#include <napi.h>

#include <deque>
#include <string>
#include <vector>

#include "../common/plan.h"

namespace tsr {

struct PlanStorage {
  Plan plan{};
  std::deque<std::string> strings;
  std::deque<std::vector<const char *>> string_arrays;
  std::vector<NsJoin> joins;
  std::vector<Mount> mounts;
  std::vector<Device> devices;
  std::vector<Symlink> symlinks;
  std::vector<KeyValue> sysctls;
  std::vector<Rlimit> rlimits;
  std::vector<uint32_t> gids;
  std::vector<unsigned char> seccomp_bpf;
  std::vector<uint64_t> cpu_affinity;
  std::string stub_path;

  const char *keep(const std::string &s) {
    strings.push_back(s);
    return strings.back().c_str();
  }
};

// Fills storage.plan from a JS object. On a malformed object it throws a JS TypeError
// into env and returns false (the TypeScript side is typed, so this means a bug).
bool convert_plan(Napi::Env env, const Napi::Object &obj, PlanStorage &storage);

}  // namespace tsr
