// Device rules: the reduction to "default + exceptions" (the v1 kernel's semantics), the v1
// file syntax, and the v2 eBPF program, run here through a small interpreter of the opcodes
// the generator emits and compared with the reduced rules for every device and access.
import { expect } from 'chai';
import {
  DEFAULT_DEVICE_RULES,
  type DeviceRule,
  type DeviceState,
  deviceAllowed,
  deviceRulesFromSpec,
  reduceDeviceRules,
  v1RuleText,
} from '../../../src/linux/cgroups/device-rules.js';
import { type Insn, deviceProgram, deviceProgramBytes, encodeProgram } from '../../../src/linux/cgroups/device-bpf.js';
import { ConfigError } from '../../../src/util/errors.js';

const r = (allow: boolean, type: 'a' | 'b' | 'c', major: number | null, minor: number | null, access = 'rwm'): DeviceRule => ({
  allow,
  type,
  major,
  minor,
  access,
});

/** Executes the instructions the generator uses, as the kernel would for one access. */
function runProgram(insns: readonly Insn[], type: number, access: number, major: number, minor: number): number {
  const regs = new Array<bigint>(11).fill(0n);
  const ctx = [BigInt((access << 16) | type), BigInt(major), BigInt(minor)];
  const mask = (1n << 64n) - 1n;
  let pc = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const i = insns[pc];
    if (!i) throw new Error(`pc ${pc} out of the program`);
    const imm = BigInt.asUintN(64, BigInt(i.imm));
    pc++;
    switch (i.code) {
      case 0x61:
        expect(i.src, 'loads only from the context in r1').to.equal(1);
        regs[i.dst] = ctx[i.off / 4] as bigint;
        break;
      case 0xbf:
        regs[i.dst] = regs[i.src] as bigint;
        break;
      case 0xb7:
        regs[i.dst] = imm;
        break;
      case 0x57:
        regs[i.dst] = (regs[i.dst] as bigint) & imm;
        break;
      case 0x77:
        regs[i.dst] = ((regs[i.dst] as bigint) >> imm) & mask;
        break;
      case 0x55:
        if (regs[i.dst] !== imm) pc += i.off;
        break;
      case 0x15:
        if (regs[i.dst] === imm) pc += i.off;
        break;
      case 0x95:
        return Number(regs[0]);
      default:
        throw new Error(`unexpected opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error('program did not exit');
}

const ACCESSES = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const ACC_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };
const accBits = (a: string) => a.split('').reduce((n, c) => n | (ACC_BITS[c] ?? 0), 0);

/** The program and the reduced rules agree on every (type, device, access) in a grid. */
function expectProgramMatches(state: DeviceState): void {
  const insns = encodeProgram(deviceProgram(state));
  const devices: [number, number][] = [
    [1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [1, 1], [5, 0], [5, 2], [10, 200], [10, 229], [136, 0], [136, 7], [8, 0], [8, 16], [254, 0],
  ];
  for (const type of ['c', 'b'] as const) {
    for (const [major, minor] of devices) {
      for (const access of ACCESSES) {
        const want = deviceAllowed(state, type, major, minor, access) ? 1 : 0;
        const got = runProgram(insns, type === 'b' ? 1 : 2, accBits(access), major, minor);
        expect(got, `${type} ${major}:${minor} ${access}`).to.equal(want);
      }
    }
  }
}

describe('cgroups: device rules', function () {
  it('start from deny-all and add runc\'s defaults after the config\'s rules', function () {
    const rules = deviceRulesFromSpec([{ allow: false, access: 'rwm' }], 'linux.resources.devices');
    expect(rules.slice(1)).to.deep.equal(DEFAULT_DEVICE_RULES);
    const state = reduceDeviceRules(rules);
    expect(state.defaultAllow).to.equal(false);
    expect(state.exceptions.map(v1RuleText)).to.have.members([
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm',
    ]);
  });

  it('a config with no rules still ends deny-by-default (as runc)', function () {
    expect(reduceDeviceRules(deviceRulesFromSpec(undefined, 'x')).defaultAllow).to.equal(false);
  });

  it('"a" resets; a same-verdict rule removes access from an identical exception', function () {
    const state = reduceDeviceRules([
      r(true, 'c', 1, 3, 'rw'),
      r(true, 'a', null, null),
      r(false, 'c', 1, 3, 'rwm'),
      r(false, 'b', 8, null, 'w'),
      r(true, 'c', 1, 3, 'w'),
      r(false, 'b', 8, null, 'm'),
    ]);
    expect(state.defaultAllow).to.equal(true);
    expect(state.exceptions.map(v1RuleText)).to.deep.equal(['c 1:3 rm', 'b 8:* wm']);
  });

  it('v1 matching: an allow needs every bit in one exception; a deny hits on any bit', function () {
    const deny = reduceDeviceRules([r(false, 'a', null, null), r(true, 'c', 1, 3, 'r'), r(true, 'c', 1, 3, 'w')]);
    expect(deviceAllowed(deny, 'c', 1, 3, 'rw')).to.equal(true);
    expect(deviceAllowed(deny, 'c', 1, 3, 'rwm')).to.equal(false);
    const allow = reduceDeviceRules([r(true, 'a', null, null), r(false, 'c', 1, null, 'w')]);
    expect(deviceAllowed(allow, 'c', 1, 9, 'rw')).to.equal(false);
    expect(deviceAllowed(allow, 'c', 1, 9, 'r')).to.equal(true);
    expect(deviceAllowed(allow, 'b', 1, 9, 'w')).to.equal(true);
  });

  it('refuses an access string with other letters, naming the rule', function () {
    expect(() => deviceRulesFromSpec([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rx' }], 'linux.resources.devices'))
      .to.throw(ConfigError, 'linux.resources.devices[0].access: "rx" is not a combination of r, w and m');
  });

  it('negative major/minor are wildcards, like absent ones', function () {
    const [rule] = deviceRulesFromSpec([{ allow: true, type: 'c', major: -1, minor: 5 }], 'x');
    expect(v1RuleText(rule as DeviceRule)).to.equal('c *:5 rwm');
  });

  describe('eBPF program', function () {
    it('agrees with the rules for runc\'s default set', function () {
      expectProgramMatches(reduceDeviceRules(deviceRulesFromSpec([{ allow: false, access: 'rwm' }], 'x')));
    });

    it('agrees with the rules for default-allow with partial denies', function () {
      expectProgramMatches(reduceDeviceRules([r(true, 'a', null, null), r(false, 'c', 1, null, 'w'), r(false, 'b', 8, 0, 'rm'), r(false, 'c', 10, 229)]));
    });

    it('agrees with the rules for partial allows and wildcards', function () {
      expectProgramMatches(reduceDeviceRules([r(true, 'c', 1, 3, 'r'), r(true, 'c', 1, 3, 'w'), r(true, 'b', null, 0, 'rw'), r(true, 'c', 136, null, 'm')]));
    });

    it('with no exceptions is one verdict', function () {
      expectProgramMatches({ defaultAllow: false, exceptions: [] });
      expectProgramMatches({ defaultAllow: true, exceptions: [] });
    });

    it('encodes to 8-byte instructions ending in exit, every jump inside the program', function () {
      const state = reduceDeviceRules(deviceRulesFromSpec([{ allow: false }], 'x'));
      const insns = encodeProgram(deviceProgram(state));
      const bytes = deviceProgramBytes(state);
      expect(bytes.length).to.equal(insns.length * 8);
      expect(bytes[bytes.length - 8]).to.equal(0x95);
      insns.forEach((i, at) => {
        if (i.code === 0x55 || i.code === 0x15) expect(at + 1 + i.off).to.be.within(at + 1, insns.length - 1);
        expect(bytes.readInt32LE(at * 8 + 4)).to.equal(i.imm);
      });
    });
  });
});
