// The one definition of the plan and protocol (addon/protocol/plan.json) and what is
// generated from it: both languages carry the same layout, a renamed field breaks the build
// of each instead of switching a check off, and the serializer refuses every field it
// cannot hand to the child, naming it.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { PlanEncodeError } from '../../src/native/plan-codec.js';
import { LAYOUT_HASH, MSG_SIZE, MsgType, decodeMsg, encodeMsg, encodePlan, planFds } from '../../src/native/generated/protocol.js';
import type { SpawnPlan } from '../../src/native/plan-types.js';
import { REPO_ROOT, makeTempDir } from '../helpers/context.js';
import { initPlan, mountPlan } from '../helpers/plan-fixtures.js';

interface Description {
  records: { name: string; fields: { name: string; type: string }[] }[];
}
const DESC_FILE = path.join(REPO_ROOT, 'addon/protocol/plan.json');
const readDesc = (): Description => JSON.parse(readFileSync(DESC_FILE, 'utf8')) as Description;

async function generator(): Promise<{ generate(desc: unknown): { protocolH: string; checkH: string; protocolTs: string; L: { hash: bigint } } }> {
  return import(path.join(REPO_ROOT, 'scripts/gen-protocol.mjs'));
}

/** The description with Mount.dest renamed to Mount.target. */
function renamed(): Description {
  const desc = readDesc();
  const mount = desc.records.find((r) => r.name === 'Mount')!;
  mount.fields.find((f) => f.name === 'dest')!.name = 'target';
  return desc;
}

/** An init plan with descriptors in a join, a prepared mount, stdio and the exec fifo. */
function plan(): SpawnPlan {
  const p = initPlan();
  p.joins = [{ fd: 5, nstype: 0x40000000, path: '/run/netns/x' }];
  p.mounts = [mountPlan('/dst', null, { bind: true, source: '/src', mountFd: 8 })];
  return p;
}

describe('plan protocol: one definition, generated for C++ and TypeScript', function () {
  this.timeout(120_000);

  it('the C++ header and the TypeScript module carry the same layout hash', function () {
    const header = readFileSync(path.join(REPO_ROOT, 'addon/generated/protocol.h'), 'utf8');
    const m = /kLayoutHash = (0x[0-9a-f]+)ull;/.exec(header);
    expect(m, 'kLayoutHash in protocol.h').to.not.equal(null);
    expect(BigInt(m![1]!)).to.equal(LAYOUT_HASH);
  });

  it('the generated files are what plan.json gives today (the build ran the generator)', async function () {
    const out = (await generator()).generate(readDesc());
    expect(readFileSync(path.join(REPO_ROOT, 'addon/generated/protocol.h'), 'utf8')).to.equal(out.protocolH);
    expect(readFileSync(path.join(REPO_ROOT, 'src/native/generated/protocol.ts'), 'utf8')).to.equal(out.protocolTs);
  });

  it('a renamed field changes the layout hash (an old child refuses the new plan)', async function () {
    const gen = await generator();
    expect(gen.generate(renamed()).L.hash).to.not.equal(gen.generate(readDesc()).L.hash);
  });

  it('a renamed field breaks the C++ build of code that uses the old name', async function () {
    const dir = makeTempDir('gen-c');
    const out = (await generator()).generate(renamed());
    mkdirSync(path.join(dir, 'generated'));
    writeFileSync(path.join(dir, 'generated/protocol.h'), out.protocolH);
    const user = path.join(dir, 'user.cc');
    writeFileSync(user, '#include "generated/protocol.h"\nunsigned dest_off(const tsr::proto::Mount &m) { return m.dest.off; }\n');
    const broken = spawnSync('g++', ['-std=gnu++17', '-fsyntax-only', user], { encoding: 'utf8' });
    expect(broken.status).to.not.equal(0);
    expect(broken.stderr).to.match(/has no member named .dest/);
    // The same code against today's header compiles: the failure is the rename.
    writeFileSync(path.join(dir, 'generated/protocol.h'), readFileSync(path.join(REPO_ROOT, 'addon/generated/protocol.h')));
    const ok = spawnSync('g++', ['-std=gnu++17', '-fsyntax-only', user], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).to.equal(0);
  });

  it('a renamed field breaks the TypeScript build of a plan builder that uses the old name', async function () {
    const dir = makeTempDir('gen-ts');
    const out = (await generator()).generate(renamed());
    writeFileSync(path.join(dir, 'protocol.ts'), out.protocolTs.replace("'../plan-codec.js'", `'${path.join(REPO_ROOT, 'src/native/plan-codec.js')}'`));
    const builder = path.join(dir, 'builder.ts');
    writeFileSync(
      builder,
      "import type { MountPlan } from './protocol.js';\n" +
        "export const m: MountPlan = { bind: false, createFile: false, source: null, dest: '/x', fstype: 'tmpfs', data: null, flags: 0, attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false, lateReadonly: false, tmpcopyup: false };\n",
    );
    const program = ts.createProgram([builder], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node'], skipLibCheck: true });
    const messages = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === builder).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages.join('\n')).to.match(/'dest' does not exist in type 'MountPlan'/);
  });

  it('messages: the generated coding round-trips, and a short message is refused', function () {
    const bytes = encodeMsg({ type: MsgType.ERROR, step: 12, err: 2, index: 3 });
    expect(bytes.length).to.equal(MSG_SIZE);
    expect(decodeMsg(bytes)).to.deep.equal({ type: MsgType.ERROR, step: 12, err: 2, pid: 0, index: 3 });
    expect(() => decodeMsg(bytes.subarray(1))).to.throw(PlanEncodeError);
  });

  it('planFds lists every descriptor the plan names, in any record', function () {
    expect(planFds(plan()).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 5, 7, 8]);
  });
});

describe('plan serializer: every field checked, the field named', function () {
  const refused: [string, (p: SpawnPlan) => void, RegExp][] = [
    ['a missing field', (p) => delete (p as Partial<SpawnPlan>).rootfsPropagation, /plan\.rootfsPropagation is missing/],
    ['a string where a boolean goes', (p) => ((p as unknown as Record<string, unknown>).isInit = 'yes'), /plan\.isInit must be a boolean/],
    ['uid 4294967295 (-1, "unchanged", to setresuid)', (p) => (p.process.uid = 4294967295), /plan\.process\.uid must be in 0\.\.4294967294/],
    ['a negative u32', (p) => (p.unshareFlags = -1), /plan\.unshareFlags must be in 0\.\./],
    ['a fraction', (p) => (p.process.gid = 1.5), /plan\.process\.gid must be an integer/],
    ['a NUL byte in a string', (p) => (p.mounts[0]!.dest = '/dev/pts\u0000'), /plan\.mounts\[0\]\.dest must not contain a NUL byte/],
    ['a NUL byte in a list of strings', (p) => (p.process.argv = ['sh', 'a\u0000b']), /plan\.process\.argv\[1\] must not contain a NUL byte/],
    ['a number where a 64-bit value (bigint) goes', (p) => (p.process.rlimits = [{ resource: 7, soft: 1024 as unknown as bigint, hard: 1024n }]), /plan\.process\.rlimits\[0\]\.soft must be a bigint/],
    ['a 64-bit value out of range', (p) => (p.process.rlimits = [{ resource: 7, soft: 1n << 64n, hard: 1n }]), /plan\.process\.rlimits\[0\]\.soft must be in 0\.\./],
    ['an fd below -1', (p) => (p.joins[0]!.fd = -2), /plan\.joins\[0\]\.fd must be in -1\.\./],
    ['null where null is not allowed', (p) => ((p.process as unknown as Record<string, unknown>).cwd = null), /plan\.process\.cwd must be a string/],
    ['a missing record', (p) => delete (p as Partial<SpawnPlan>).process, /plan\.process is missing/],
    ['a BPF program that is not whole instructions', (p) => (p.process.seccomp = { bpf: Buffer.alloc(12), flags: 0, notify: false }), /plan\.process\.seccomp\.bpf must be a multiple of 8 bytes/],
    ['three stdio fds as two', (p) => ((p.process as unknown as Record<string, unknown>).stdioFds = [0, 1]), /plan\.process\.stdioFds must be an array of 3/],
    ['an rlimit resource the kernel does not have', (p) => (p.process.rlimits = [{ resource: 16, soft: 1n, hard: 1n }]), /plan\.process\.rlimits\[0\]\.resource must be in 0\.\.15/],
  ];
  for (const [what, mutate, message] of refused) {
    it(`refuses ${what}`, function () {
      const p = plan();
      mutate(p);
      let caught: unknown;
      try {
        encodePlan(p);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(PlanEncodeError);
      expect((caught as Error).message).to.match(message);
    });
  }

  it('takes the declared default for an optional field that is absent', function () {
    const p = plan();
    delete p.mounts[0]!.mountFd;
    const withDefault = encodePlan(p);
    p.mounts[0]!.mountFd = -1;
    expect(encodePlan(p).equals(withDefault)).to.equal(true);
  });

  it('writes the header: magic, version, layout hash, size', function () {
    const bytes = encodePlan(plan());
    expect(bytes.toString('ascii', 0, 4)).to.equal('TSRP');
    expect(bytes.readBigUInt64LE(8)).to.equal(LAYOUT_HASH);
    expect(bytes.readUInt32LE(16)).to.equal(bytes.length);
  });
});
