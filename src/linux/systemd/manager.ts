// The systemd cgroup driver (runc's --systemd-cgroup on cgroup v2): the container's cgroup
// is a transient scope that systemd creates over D-Bus with the container's process in it
// (Delegate=yes: what is below the scope is the container's), and its limits are unit
// properties, so that systemd keeps them. The cgroup files are then written as the
// cgroupfs driver writes them, for what systemd has no property for (runc's systemd
// manager is backed by its fs2 manager the same way). Freezing, statistics, processes and
// OOM events read the scope's cgroup directly.
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxResources } from '../../spec/types.js';
import type { CgroupState } from '../../state/types.js';
import { SystemError } from '../../util/errors.js';
import { type ApplyOptions, planResources } from '../cgroups/apply.js';
import { CgroupfsManager } from '../cgroups/cgroupfs.js';
import { CgroupDirs, UNIFIED } from '../cgroups/dirs.js';
import type { FreezeOptions, FreezerState } from '../cgroups/freezer.js';
import type { CgroupManager, ExecPlacement } from '../cgroups/manager.js';
import type { CgroupLayout } from '../cgroups/mode.js';
import type { OomWatcher } from '../cgroups/oom.js';
import type { Json } from '../../util/json-exact.js';
import { annotationProperties } from './annotations.js';
import type { UnitProperty } from './bus-protocol.js';
import { SystemdBus, busAddress, parseSystemdVersion } from './bus.js';
import { resourceProperties, startOnlyProperties } from './properties.js';
import { type SystemdUnit, systemdUnit } from './unit.js';

/** The newest property any conversion checks for: "convert everything", to check a config. */
const ANY_VERSION = Number.MAX_SAFE_INTEGER;

export interface SystemdRequest {
  id: string;
  cgroupsPath: string | undefined;
  annotations: Record<string, string> | undefined;
  rootless: boolean;
  layout: CgroupLayout;
}

export class SystemdManager implements CgroupManager {
  readonly driver = 'systemd' as const;
  private connection: SystemdBus | null = null;
  private version: number | null = null;
  private pending: { resources: LinuxResources | undefined; opts: ApplyOptions; extra: UnitProperty[] } | null = null;

  constructor(
    /** The scope (or slice) unit's name, and where it goes. */
    readonly unit: Pick<SystemdUnit, 'name' | 'type' | 'slice'>,
    readonly userBus: boolean,
    /** The unit's cgroup, driven directly for everything but its creation and limits. */
    private readonly fs: CgroupfsManager,
    private readonly description = `ts-runc container ${unit.name}`,
  ) {}

  /** A new container's unit, from its cgroupsPath (nothing is asked of systemd yet). */
  static plan(req: SystemdRequest): SystemdManager {
    // sd_booted(3): systemd is PID 1 when /run/systemd/system is a directory.
    if (!fs.statSync('/run/systemd/system', { throwIfNoEntry: false })?.isDirectory()) {
      throw new SystemError('--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the cgroupfs driver (no --systemd-cgroup)');
    }
    if (req.layout.mode !== 'v2' || !req.layout.unified) {
      throw new SystemError(`--systemd-cgroup: the systemd cgroup driver needs a pure cgroup v2 host; this one is ${req.layout.mode}`);
    }
    const unit = systemdUnit(req.cgroupsPath, req.id, req.rootless);
    let cgroup = unit.cgroup;
    let bus: SystemdBus | null = null;
    if (req.rootless) {
      // The user's units live below the user manager's own cgroup.
      bus = new SystemdBus(busAddress(true));
      cgroup = path.posix.join(String(bus.managerProperty('ControlGroup')), cgroup);
    }
    const dirs = new CgroupDirs('v2', cgroup, { [UNIFIED]: path.join(req.layout.unified, cgroup) }, req.layout);
    const m = new SystemdManager(unit, req.rootless, new CgroupfsManager(dirs), `ts-runc container ${req.id}`);
    m.connection = bus;
    // Annotations are checked now: a bad one fails create before anything exists.
    m.pending = { resources: undefined, opts: {}, extra: annotationProperties(req.annotations) };
    return m;
  }

  static fromState(state: CgroupState & { systemd: { unit: string; userBus: boolean } }): SystemdManager {
    const name = state.systemd.unit;
    const type = name.endsWith('.slice') ? 'slice' : 'scope';
    return new SystemdManager({ name, type, slice: '' }, state.systemd.userBus, new CgroupfsManager(CgroupDirs.fromState(state)));
  }

  get mode(): string {
    return this.fs.mode;
  }

  get path(): string {
    return this.fs.path;
  }

  get dirs(): Readonly<Record<string, string>> {
    return this.fs.dirs;
  }

  toState(): CgroupState {
    return { ...this.fs.toState(), systemd: { unit: this.unit.name, userBus: this.userBus } };
  }

  private bus(): SystemdBus {
    this.connection ??= new SystemdBus(busAddress(this.userBus));
    return this.connection;
  }

  private systemdVersion(): number {
    this.version ??= parseSystemdVersion(String(this.bus().managerProperty('Version')));
    return this.version;
  }

  /** The scope needs a process to exist: only check that the limits convert. */
  create(resources: LinuxResources | undefined, opts: ApplyOptions = {}): void {
    if (resources) resourceProperties(resources, ANY_VERSION);
    this.pending = { resources, opts, extra: this.pending?.extra ?? [] };
  }

  /** Start the unit with the process in it, then set what systemd does not. */
  addInitProcess(pid: number): void {
    const { resources, opts, extra } = this.pending ?? { resources: undefined, opts: {}, extra: [] };
    const version = this.systemdVersion();
    const converted = resources ? resourceProperties(resources, version, opts.warn) : null;
    const properties: UnitProperty[] = [
      { name: 'Description', type: 's', value: this.description },
      ...(this.unit.type === 'slice'
        ? [{ name: 'Wants', type: 's', value: this.unit.slice }]
        : [
            { name: 'Slice', type: 's', value: this.unit.slice },
            { name: 'Delegate', type: 'b', value: true },
          ]),
      { name: 'PIDs', type: 'au', value: [pid] },
      // Accounting on, whatever the limits, as runc does: statistics need the controllers.
      { name: 'MemoryAccounting', type: 'b', value: true },
      { name: 'CPUAccounting', type: 'b', value: true },
      { name: 'IOAccounting', type: 'b', value: true },
      { name: 'TasksAccounting', type: 'b', value: true },
      { name: 'DefaultDependencies', type: 'b', value: false },
      ...startOnlyProperties(resources, version),
      ...(converted?.properties ?? []),
      ...extra,
    ];
    const result = this.bus().startUnit(this.unit.name, properties);
    if (result !== 'done') {
      try {
        this.bus().resetFailedUnit(this.unit.name);
      } catch {
        // only tidying
      }
      throw new SystemError(`error creating systemd unit "${this.unit.name}": got "${result}"`);
    }
    const cg = this.fs.cg;
    const dir = cg.dirs[UNIFIED] as string;
    if (!fs.existsSync(dir)) {
      const actual = this.bus().unitProperty(this.unit.name, `org.freedesktop.systemd1.${this.unit.type === 'slice' ? 'Slice' : 'Scope'}`, 'ControlGroup');
      throw new SystemError(`systemd put unit "${this.unit.name}" in cgroup ${String(actual)}, not ${dir}`);
    }
    // Delegate=yes made the scope ours: enable the controllers below it, write the files.
    cg.create();
    this.fs.set(converted?.resources ?? {}, opts);
  }

  execPlacement(subCgroups: readonly string[]): ExecPlacement {
    return this.fs.execPlacement(subCgroups);
  }

  addProcess(pid: number, placement?: ExecPlacement, ignoreErrors = false): void {
    this.fs.addProcess(pid, placement, ignoreErrors);
  }

  /** New limits: the unit's properties first, then the files (runc's Set). */
  set(resources: LinuxResources, opts: ApplyOptions = {}): void {
    // Checks that must pass before systemd acts (a lower memory limit would OOM-kill now).
    planResources(this.fs.cg, resources, { ...opts, warn: () => {} });
    const converted = resourceProperties(resources, this.systemdVersion(), opts.warn);
    this.bus().setUnitProperties(this.unit.name, converted.properties);
    this.fs.set(converted.resources, opts);
  }

  freeze(opts?: FreezeOptions): void {
    this.fs.freeze(opts);
  }

  thaw(opts?: FreezeOptions): void {
    this.fs.thaw(opts);
  }

  freezerState(): FreezerState {
    return this.fs.freezerState();
  }

  stats(hugePageSizes: readonly string[]): Json {
    return this.fs.stats(hugePageSizes);
  }

  pids(): number[] {
    return this.fs.pids();
  }

  isPopulated(): boolean {
    return this.fs.isPopulated();
  }

  killAll(): boolean {
    return this.fs.killAll();
  }

  watchOom(): OomWatcher {
    return this.fs.watchOom();
  }

  /** Stop the unit (systemd removes its cgroup), forget a failed one, remove what is left. */
  destroy(): void {
    const bus = this.bus();
    if (bus.stopUnit(this.unit.name) === 'timeout') throw new SystemError(`timed out waiting for systemd to stop unit "${this.unit.name}"`);
    try {
      bus.resetFailedUnit(this.unit.name);
    } catch {
      // not failed, or gone
    }
    this.fs.destroy();
  }
}
