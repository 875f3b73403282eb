// What a result file records about where it was measured, so two runs can be compared
// knowingly: kernel, CPUs, memory, load, tool versions, and the commit of the tree.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function output(file, args, opts = {}) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, ...opts }).trim();
  } catch {
    return null;
  }
}

/** The first two lines of `<bin> --version` (version and commit), or null when it cannot run. */
export function versionOf(argv) {
  const text = output(argv[0], [...argv.slice(1), '--version']);
  return text ? text.split('\n').slice(0, 2).join(', ') : null;
}

function cgroupLayout() {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    const types = new Set(mounts.map((l) => l.split(' - ')[1]?.split(' ')[0]).filter((t) => t === 'cgroup' || t === 'cgroup2'));
    return types.has('cgroup') && types.has('cgroup2') ? 'hybrid' : types.has('cgroup2') ? 'v2' : types.has('cgroup') ? 'v1' : 'none';
  } catch {
    return 'unknown';
  }
}

/** Machine and tree facts; `repo` is the repository root. */
export function machineInfo(repo) {
  const cpus = os.cpus();
  const dirty = output('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo });
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cgroups: cgroupLayout(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    gitCommit: output('git', ['rev-parse', 'HEAD'], { cwd: repo }),
    gitDirty: dirty === null ? null : dirty.length > 0,
  };
}

export function loadAverage() {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/**
 * CPU time the whole machine has spent busy (all CPUs, seconds) and the time the hypervisor
 * took from it (steal), from /proc/stat: { busy, steal }.
 */
export function machineCpuSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const [user, nice, system, , , irq, softirq, steal] = f;
    const hz = 100; // USER_HZ, 100 on every Linux architecture Node runs on
    return { busy: (user + nice + system + irq + softirq) / hz, steal: (steal ?? 0) / hz };
  } catch {
    return null;
  }
}

/**
 * CPU time of this process and of every child it has waited for (and theirs), seconds: the
 * harness, benchexec and each command it timed, the helpers' compilation, ...
 */
export function ownCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14-17 of stat(5): utime stime cutime cstime (f[0] is field 3)
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return null;
  }
}
