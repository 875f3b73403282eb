// Schema test vectors: the runtime-spec's own (when the reference folder is on this machine)
// and ts-runc's, under test/fixtures/schema-vectors/{config,state,features}/{good,bad}/.
// Good documents must validate with no problem at all; bad ones must be rejected (a
// document that is not even JSON counts as rejected). A bad config is rejected as create
// rejects it: by its document (schema and field rules) or, when that holds, by the
// conversion's checks between fields (here with fixed host facts); a good one is a
// well-formed document, which create may still refuse on a given host. For ts-runc's bad
// vectors the exact problem lines are pinned in EXPECTED below.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/context.js';
import { skipWith } from '../helpers/privileges.js';
import { containerProblems } from '../../src/linux/specconv/validate.js';
import { viewSpec } from '../../src/linux/specconv/view.js';
import type { Spec } from '../../src/spec/types.js';
import { validateConfig, validateFeatures, validateState } from '../../src/spec/validate.js';
import { BUNDLE, fixedHost } from './specconv/host.js';

type Kind = 'config' | 'state' | 'features';
const KINDS: Kind[] = ['config', 'state', 'features'];
const VALIDATORS: Record<Kind, (doc: unknown) => { message: string }[]> = {
  config: (d) => validateConfig(d),
  state: validateState,
  features: validateFeatures,
};

/**
 * Where the runtime-spec reference is: $OCI_RUNTIME_SPEC_DIR when set (only there), else
 * shared/ beside the repository, else /work/shared.
 */
function referenceDir(): string | undefined {
  const env = process.env.OCI_RUNTIME_SPEC_DIR;
  const candidates = env
    ? [env]
    : [path.join(REPO_ROOT, '..', 'shared/reference/runtime-spec-v1.3.0'), '/work/shared/reference/runtime-spec-v1.3.0'];
  return candidates.find((d) => existsSync(path.join(d, 'schema/test')));
}

interface Vector {
  kind: Kind;
  good: boolean;
  name: string;
  file: string;
}

function listVectors(root: string): Vector[] {
  const out: Vector[] = [];
  for (const kind of KINDS) {
    for (const verdict of ['good', 'bad'] as const) {
      const dir = path.join(root, kind, verdict);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        out.push({ kind, good: verdict === 'good', name, file: path.join(dir, name) });
      }
    }
  }
  return out;
}

/** A config create refuses before doing anything: its document, then the relational checks. */
function configProblems(doc: unknown): { message: string }[] {
  const problems = validateConfig(doc);
  if (problems.length) return problems;
  const spec = doc as Spec;
  return containerProblems({ spec, view: viewSpec(spec, BUNDLE), host: fixedHost() });
}

/** Problem lines for a vector, or undefined when it is not valid JSON. */
function problemsOf(v: Vector): string[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(v.file, 'utf8'));
  } catch {
    return undefined;
  }
  const validate = v.kind === 'config' && !v.good ? configProblems : VALIDATORS[v.kind];
  return validate(doc).map((e) => e.message);
}

function checkVector(v: Vector, expected?: string[]): void {
  const problems = problemsOf(v);
  if (v.good) {
    expect(problems, `${v.kind}/good/${v.name} is not valid JSON`).to.not.equal(undefined);
    expect(problems, `${v.kind}/good/${v.name}`).to.deep.equal([]);
    return;
  }
  if (problems === undefined) return; // rejected at parse time
  expect(problems, `${v.kind}/bad/${v.name} was accepted`).to.not.be.empty;
  if (expected) expect(problems).to.deep.equal(expected);
}

describe('schema vectors: runtime-spec v1.3.0 reference', function () {
  const dir = referenceDir();
  if (!dir) {
    it('validates the upstream test documents', function () {
      skipWith(this, 'the runtime-spec reference folder (shared/reference/runtime-spec-v1.3.0) is absent');
    });
    return;
  }
  const vectors = listVectors(path.join(dir, 'schema/test'));
  it('finds upstream vectors of every kind', function () {
    for (const kind of KINDS) expect(vectors.some((v) => v.kind === kind), kind).to.equal(true);
  });
  for (const v of vectors) {
    it(`${v.good ? 'accepts' : 'rejects'} ${v.kind}/${v.good ? 'good' : 'bad'}/${v.name}`, function () {
      checkVector(v);
    });
  }
});

/** The exact problem lines of each of ts-runc's bad vectors (null: not JSON at all). */
const EXPECTED: Record<string, string[] | null> = {
  'config/annotation-value-not-a-string.json': ['annotations["com.example.count"]: must be a string'],
  'config/blockio-weightdevice-without-weight.json': [
    'linux.resources.blockIO.weightDevice[0]: must set weight or leafWeight',
  ],
  'config/device-char-without-major-minor.json': [
    'linux.devices[0].major: is required',
    'linux.devices[0].minor: is required',
  ],
  'config/device-type-unknown.json': ['linux.devices[0].type: must be one of c, b, u, p'],
  'config/execcpuaffinity-not-a-cpu-list.json': [
    'process.execCPUAffinity.initial: must be a list of CPUs such as 0-3,7',
  ],
  'config/hook-path-relative.json': ['hooks.prestart[1].path: must be an absolute path'],
  'config/hook-timeout-zero.json': ['hooks.poststart[0].timeout: must be greater than zero'],
  'config/hugepage-size-lowercase-unit.json': [
    'linux.resources.hugepageLimits[0].pageSize: must be a page size such as 64KB, 2MB or 1GB',
  ],
  'config/intelrdt-membwschema-without-prefix.json': [
    'linux.intelRdt.memBwSchema: must start with MB: and be a single line',
  ],
  'config/invalid-json-trailing-comma.json': null,
  'config/iopriority-out-of-range.json': ['process.ioPriority.priority: must be <= 7'],
  'config/iopriority-be-without-priority.json': ['process.ioPriority.priority: is required'],
  'config/mappings-without-user-namespace.json': [
    'linux.uidMappings: requires a user namespace in linux.namespaces',
  ],
  'config/memorypolicy-flag-unknown.json': [
    'linux.memoryPolicy.flags[0]: must be one of MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES',
  ],
  'config/memorypolicy-mode-unknown.json': [
    'linux.memoryPolicy.mode: must be one of MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL',
  ],
  'config/mount-destination-empty.json': ['mounts[0].destination: must not be empty'],
  'config/mount-gidmappings-without-uidmappings.json': ['mounts[0].uidMappings: is required when gidMappings is set'],
  'config/namespace-path-relative.json': ['linux.namespaces[0].path: must be an absolute path'],
  'config/namespace-type-duplicated.json': ['linux.namespaces[2].type: duplicate pid namespace'],
  'config/namespace-type-unknown.json': [
    'linux.namespaces[1].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time',
  ],
  'config/netdevice-name-not-a-string.json': ['linux.netDevices.eth0.name: must be a string'],
  'config/ociversion-not-a-string.json': ['ociVersion: must be a string'],
  'config/process-args-empty.json': ['process.args: must be a non-empty array'],
  'config/process-args-missing.json': ['process.args: is required'],
  'config/process-cwd-relative.json': ['process.cwd: must be an absolute path'],
  'config/rdma-entry-without-limits.json': ['linux.resources.rdma.mlx5_1: must set hcaHandles or hcaObjects'],
  'config/rlimit-soft-negative-hard-missing.json': [
    'process.rlimits[0].hard: is required',
    'process.rlimits[0].soft: must not be negative',
  ],
  'config/rlimit-type-duplicated.json': ['process.rlimits[2].type: duplicate RLIMIT_NOFILE'],
  'config/rlimit-type-unknown.json': [
    'process.rlimits[0].type: must be one of RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, ' +
      'RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, ' +
      'RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK',
  ],
  'config/root-missing.json': ['root: is required'],
  'config/rootfspropagation-unknown.json': [
    'linux.rootfsPropagation: must be one of shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable',
  ],
  'config/scheduler-policy-unknown.json': [
    'process.scheduler.policy: must be one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE',
  ],
  'config/seccomp-action-typo.json': [
    'linux.seccomp.defaultAction: must be one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, ' +
      'SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY',
  ],
  'config/seccomp-arch-typo.json': [
    'linux.seccomp.architectures[1]: must be one of SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, ' +
      'SCMP_ARCH_ARM, SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL, ' +
      'SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, ' +
      'SCMP_ARCH_S390X, SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64, SCMP_ARCH_LOONGARCH64, ' +
      'SCMP_ARCH_M68K, SCMP_ARCH_SH, SCMP_ARCH_SHEB',
  ],
  'config/seccomp-flag-unknown.json': [
    'linux.seccomp.flags[0]: must be one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, ' +
      'SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  ],
  'config/seccomp-listener-metadata-without-path.json': [
    'linux.seccomp.listenerMetadata: requires linux.seccomp.listenerPath',
  ],
  'config/seccomp-operator-typo.json': [
    'linux.seccomp.syscalls[0].args[0].op: must be one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, ' +
      'SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ',
  ],
  'config/seccomp-syscall-names-empty.json': ['linux.seccomp.syscalls[0].names: must be a non-empty array'],
  'config/timeoffsets-unknown-clock.json': ['linux.timeOffsets.realtime: unknown key; must be one of boottime, monotonic'],
  'config/timeoffsets-without-time-namespace.json': ['linux.timeOffsets: requires a time namespace in linux.namespaces'],
  'config/uidmappings-without-gidmappings.json': ['linux.gidMappings: is required when uidMappings is set'],
  'config/user-uid-negative.json': ['process.user.uid: must not be negative'],
  'config/wrong-types-everywhere.json': [
    'root.readonly: must be a boolean',
    'hostname: must be a string',
    'linux.namespaces: must be an array',
    'linux.sysctl["net.ipv4.ip_forward"]: must be a string',
    'linux.maskedPaths: must be an array',
  ],
  'state/bundle-relative.json': ['bundle: must be an absolute path'],
  'state/id-missing-pid-negative.json': ['id: is required', 'pid: must not be negative'],
  'state/running-without-pid.json': ['pid: is required'],
  'state/status-unknown.json': ['status: must be one of creating, created, running, stopped, paused'],
  'features/linux-not-an-object.json': ['linux: must be an object or null'],
  'features/nested-wrong-types.json': [
    'ociVersionMax: must be a SemVer version such as 1.3.0',
    'hooks: must be an array or null',
    'linux.cgroup.v2: must be a boolean or null',
    'linux.mountExtensions.idmap.enabled: must be a boolean or null',
  ],
  'features/ociversionmin-null.json': ['ociVersionMin: must be a string'],
};

describe('schema vectors: ts-runc', function () {
  const vectors = listVectors(path.join(REPO_ROOT, 'test/fixtures/schema-vectors'));

  it('has at least 25 vectors, good and bad, of every kind', function () {
    expect(vectors.length).to.be.at.least(25);
    for (const kind of KINDS) {
      expect(vectors.some((v) => v.kind === kind && v.good), `${kind}/good`).to.equal(true);
      expect(vectors.some((v) => v.kind === kind && !v.good), `${kind}/bad`).to.equal(true);
    }
  });

  it('pins the problem lines of every bad vector (and only of existing ones)', function () {
    const bad = vectors.filter((v) => !v.good).map((v) => `${v.kind}/${v.name}`);
    expect(Object.keys(EXPECTED).sort()).to.deep.equal(bad.sort());
  });

  for (const v of vectors) {
    const key = `${v.kind}/${v.name}`;
    it(`${v.good ? 'accepts' : 'rejects'} ${v.kind}/${v.good ? 'good' : 'bad'}/${v.name}`, function () {
      const expected = EXPECTED[key];
      if (!v.good && expected === null) {
        expect(problemsOf(v), 'expected invalid JSON').to.equal(undefined);
        return;
      }
      checkVector(v, expected ?? undefined);
    });
  }
});
