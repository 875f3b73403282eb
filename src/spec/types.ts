// The OCI document types, generated from schemas/ (see scripts/gen-schema-artifacts.mjs).
// Import them from here rather than from ./generated/ directly.

export type * from './generated/config.js';
export type { ContainerStatus, State } from './generated/state.js';
export type {
  AppArmorFeatures,
  CgroupFeatures,
  Features,
  IDMapFeatures,
  IntelRdtFeatures,
  LinuxFeatures,
  MemoryPolicyFeatures,
  MountExtensionsFeatures,
  NetDevicesFeatures,
  SeccompFeatures,
  SELinuxFeatures,
} from './generated/features.js';
