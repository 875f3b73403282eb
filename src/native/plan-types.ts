// The flat, fully resolved plan a SpawnPlan builder (src/linux/*-plan.ts) hands the
// launcher. The types are generated from addon/protocol/plan.json, the one definition the
// child program (addon/child/) is built from too; see scripts/gen-protocol.mjs.
//
// Everything here is already decided: paths are absolute, flags are numbers, capability
// sets are bit masks, the seccomp filter is compiled BPF. The child only walks it.
export type {
  CapabilityMasks,
  CpuAffinityPlan,
  DevicePlan,
  MemoryPolicyPlan,
  MountPlan,
  NsJoinPlan,
  ProcessPlan,
  RlimitPlan,
  SchedulerPlan,
  SeccompPlan,
  SpawnPlan,
  SymlinkPlan,
  SysctlPlan,
} from './generated/protocol.js';
