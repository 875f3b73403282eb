// What the runtime remembers about a container between commands (state.json).
// `stateDocument()` in operations/container.ts derives the spec's state document from it.
import type { LinuxResources } from '../spec/types.js';

export type Status = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface CgroupState {
  /** 'v1' | 'v2' | 'hybrid' at create time. */
  mode: string;
  /** The container's cgroup path relative to each hierarchy root, e.g. "/tsrunc/ctr". */
  path: string;
  /** Absolute directory per controller ("" = the v2 / unified hierarchy). */
  dirs: Record<string, string>;
  /** Made by the systemd cgroup driver: its unit, and whether on the user's bus. */
  systemd?: { unit: string; userBus: boolean };
}

export interface NamespaceState {
  type: string;
  /** Path the container joined, or "" when the runtime created it. */
  path: string;
}

/** A process, pinned against pid reuse by its start time (/proc/<pid>/stat field 22). */
export interface ProcessKey {
  pid: number;
  startTime: number;
}

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Last status written by an operation; the live status is computed from the process. */
  status: Status;
  /** Host pid of the container process (0 while creating). */
  pid: number;
  /** Start time of that pid in clock ticks since boot (/proc/<pid>/stat field 22). */
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  annotations?: Record<string, string>;
  /** RFC 3339 with nanoseconds, as runc prints it. */
  created: string;
  owner: string;
  cgroup: CgroupState | null;
  namespaces: NamespaceState[];
  rootless: boolean;
  /** Set by `start` (after the fifo was consumed). */
  started: boolean;
  /** Created with --no-new-keyring: exec'd processes keep the caller's session keyring too. */
  noNewKeyring?: boolean;
  /**
   * The process running create (pid and start time) while status is "creating": when it is
   * gone before create finished, the creation was abandoned (see liveStatus).
   */
  creator?: ProcessKey;
  /**
   * Processes that were already in the container's cgroup when create made it (a
   * cgroupsPath naming a populated cgroup): not the container's, never killed by delete.
   */
  foreign?: ProcessKey[];
  /** linux.resources as `update` last left them (absent: the config.json snapshot's). */
  resources?: LinuxResources;
}
