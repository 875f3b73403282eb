// Applying linux.resources to a container's cgroups: each controller is driven where it
// lives (its v1 hierarchy, or the unified one), with that version's table; the steps run in
// order, and the first refusal stops the lot with the file, the value and the errno.
import fs from 'node:fs';
import { native } from '../../native/addon.js';
import type { LinuxResources } from '../../spec/types.js';
import { ConfigError, SystemError, errorMessage } from '../../util/errors.js';
import { deviceProgramBytes } from './device-bpf.js';
import type { DeviceState } from './device-rules.js';
import { type CgroupDirs, UNIFIED } from './dirs.js';
import { CgroupWriteError, readCgroupFile, readUint, writeCgroupFile } from './fs.js';
import { type CgroupStep, type CgroupWrite, GROUP_FIELDS, type GroupId, type PlanContext, RESOURCES_FIELD, hostHugePageSizes } from './plan.js';
import { type CgroupVersion, RESOURCE_GROUPS } from './resources.js';
import { V2_PSEUDO_CONTROLLERS } from './resources-v2.js';

export interface ApplyOptions {
  /** Changing a running container (`update`): checkBeforeUpdate applies. */
  update?: boolean;
  warn?: (message: string) => void;
  /** Rootless: refusals for lack of permission are warnings (runc's --rootless). */
  ignorePermissionErrors?: boolean;
  /** Defaults to the host's (/sys/kernel/mm/hugepages). */
  hugePageSizes?: readonly string[];
}

/** A step and the cgroup version whose directory it acts on. */
export interface PlacedStep {
  version: 1 | 2;
  step: CgroupStep;
}

/** Where a group of fields is applied on this host: v1, v2, or nowhere. */
function groupHome(cg: CgroupDirs, group: GroupId): CgroupVersion | null {
  const v1 = RESOURCE_GROUPS[group][1].controller;
  if (v1 && cg.hasV1(v1)) return 1;
  if (cg.dirs[UNIFIED] === undefined) return null;
  const v2 = RESOURCE_GROUPS[group][2].controller;
  // Fields v2 has no controller for are only "ignored with a warning" on a pure v2 host.
  if (v2 === null) return cg.mode === 'v2' ? 2 : null;
  if (V2_PSEUDO_CONTROLLERS.has(v2) || cg.v2Available().has(v2)) return 2;
  return null;
}

function planContext(cg: CgroupDirs, opts: ApplyOptions, warn: (m: string) => void): PlanContext {
  const dir = (controller: string) => cg.dirFor(controller) ?? '/nonexistent';
  return {
    exists: (controller, file) => fs.existsSync(`${dir(controller)}/${file}`),
    readUint: (controller, file) => readUint(dir(controller), file),
    read: (controller, file) => readCgroupFile(dir(controller), file),
    hugePageSizes: opts.hugePageSizes ?? hostHugePageSizes(),
    update: opts.update === true,
    warn,
  };
}

/** `unified` keys, written to the unified hierarchy as given (after everything else). */
function unifiedSteps(cg: CgroupDirs, unified: Record<string, string>): PlacedStep[] {
  const keys = Object.keys(unified);
  if (keys.length === 0) return [];
  if (cg.dirs[UNIFIED] === undefined) throw new ConfigError(`${RESOURCES_FIELD}.unified`, 'cannot use unified on cgroup v1');
  const available = cg.v2Available();
  return keys.map((key) => {
    const field = `${RESOURCES_FIELD}.unified[${JSON.stringify(key)}]`;
    if (key.includes('/')) throw new ConfigError(field, 'must be a file name (no slashes)');
    const dot = key.indexOf('.');
    if (dot <= 0) throw new ConfigError(field, 'must be in the form CONTROLLER.PARAMETER');
    const controller = key.slice(0, dot);
    if (cg.hasV1(controller)) {
      throw new ConfigError(field, `cannot use unified on cgroup v1: the ${controller} controller is mounted as cgroup v1 on this host`);
    }
    if (!V2_PSEUDO_CONTROLLERS.has(controller) && !available.has(controller)) {
      throw new ConfigError(field, `can't be set: controller "${controller}" not available`);
    }
    const step: CgroupWrite = { kind: 'write', controller, file: key, value: String(unified[key]), field };
    return { version: 2 as const, step };
  });
}

/** Every step for these resources, in order, each placed on its hierarchy. */
export function planResources(cg: CgroupDirs, res: LinuxResources, opts: ApplyOptions = {}): PlacedStep[] {
  const said = new Set<string>();
  const warn = (m: string) => {
    if (said.has(m)) return;
    said.add(m);
    opts.warn?.(m);
  };
  const ctx = planContext(cg, opts, warn);
  const out: PlacedStep[] = [];
  for (const group of Object.keys(GROUP_FIELDS) as GroupId[]) {
    const field = GROUP_FIELDS[group](res);
    if (field === null) continue;
    const home = groupHome(cg, group);
    if (home === null) {
      const name = RESOURCE_GROUPS[group][1].controller ?? group;
      throw new ConfigError(`${RESOURCES_FIELD}.${field}`, `cannot set ${name} limit: the ${name} cgroup controller is not available on this host`);
    }
    for (const step of RESOURCE_GROUPS[group][home].plan(res, ctx)) out.push({ version: home, step });
  }
  out.push(...unifiedSteps(cg, res.unified ?? {}));
  return out;
}

/** Load the device program and make it the cgroup's only one (the old ones go after). */
export function attachDeviceProgram(dir: string, state: DeviceState): void {
  const addon = native();
  const cgroupFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const old = addon.bpfDeviceProgramQuery(cgroupFd);
    const prog = addon.bpfDeviceProgramLoad(deviceProgramBytes(state));
    try {
      addon.bpfDeviceProgramAttach(cgroupFd, prog);
    } finally {
      fs.closeSync(prog);
    }
    // Until the old programs are gone both apply: the stricter of the two, never more.
    for (const id of old) addon.bpfDeviceProgramDetach(cgroupFd, id);
  } finally {
    fs.closeSync(cgroupFd);
  }
}

const PERMISSION = new Set(['EPERM', 'EACCES', 'EROFS']);

/** Run placed steps: a refusal throws (after one retry for order-sensitive writes). */
function runSteps(cg: CgroupDirs, steps: readonly PlacedStep[], opts: ApplyOptions = {}): void {
  const dirOf = (p: PlacedStep): string => {
    const dir = p.version === 1 && p.step.kind === 'write' ? cg.dirs[p.step.controller] : cg.dirs[UNIFIED];
    if (!dir) throw new SystemError(`no cgroup directory for ${p.step.kind === 'write' ? p.step.controller : 'devices'}`);
    return dir;
  };
  const deferred: PlacedStep[] = [];
  const attempt = (p: PlacedStep, retrying: boolean): void => {
    const { step } = p;
    if (step.kind === 'device-program') {
      try {
        attachDeviceProgram(dirOf(p), step.state);
      } catch (err) {
        if (opts.ignorePermissionErrors) return opts.warn?.(`${step.field}: ${errorMessage(err)}`);
        throw new SystemError(`${step.field}: device program for ${dirOf(p)}: ${errorMessage(err)}`);
      }
      return;
    }
    try {
      writeCgroupFile(dirOf(p), step.file, step.value, step.field);
    } catch (err) {
      if (!(err instanceof CgroupWriteError)) throw err;
      if (step.optional && err.errno === 'ENOENT') return;
      if (step.retryOnEinval && err.errno === 'EINVAL' && !retrying) {
        deferred.push(p);
        return;
      }
      if (opts.ignorePermissionErrors && PERMISSION.has(err.errno)) {
        opts.warn?.(err.message);
        return;
      }
      const why = step.explain?.(err.errno);
      if (why) throw new CgroupWriteError(err.file, err.value, err.errno, step.field, why);
      throw err;
    }
  };
  for (const p of steps) attempt(p, false);
  for (const p of deferred) attempt(p, true);
}

/** v2 controllers the steps need enabled along the container's path. */
export function neededV2Controllers(steps: readonly PlacedStep[]): string[] {
  const out = new Set<string>();
  for (const p of steps) {
    if (p.version === 2 && p.step.kind === 'write' && !V2_PSEUDO_CONTROLLERS.has(p.step.controller)) out.add(p.step.controller);
  }
  return [...out];
}

/** Plan, enable what v2 needs, and write. */
export function applyResources(cg: CgroupDirs, res: LinuxResources | undefined, opts: ApplyOptions = {}): void {
  if (!res) return;
  const steps = planResources(cg, res, opts);
  cg.enableV2Controllers(neededV2Controllers(steps));
  runSteps(cg, steps, opts);
}
