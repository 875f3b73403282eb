// features: a valid Features structure (features.md), whose lists are what the runtime
// really recognises: every listed mount option, namespace and capability is accepted in a
// config.json, and the libseccomp annotation is the library this build is linked with.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../src/native/addon.js';
import { validateFeatures } from '../../src/spec/validate.js';
import { makeBundle } from '../helpers/bundle.js';
import { makeTempDir } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireRoot } from '../helpers/privileges.js';
import { describeResult, rt, rtOk, uniqueId } from '../helpers/runtime.js';
import { useUserns } from './linux/support.js';

interface FeaturesDoc {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: string[];
  mountOptions?: string[];
  linux?: {
    namespaces?: string[];
    capabilities?: string[];
    cgroup?: Record<string, boolean>;
    seccomp?: { enabled?: boolean; actions?: string[]; operators?: string[]; archs?: string[]; knownFlags?: string[]; supportedFlags?: string[] };
    mountExtensions?: { idmap?: { enabled?: boolean } };
    memoryPolicy?: { modes?: string[]; flags?: string[] };
  };
  annotations?: Record<string, string>;
}

function features(): FeaturesDoc {
  return JSON.parse(rtOk(['features'])) as FeaturesDoc;
}

describe('features', function () {
  this.timeout(60_000);

  it('prints a valid Features structure', function () {
    const doc = features();
    expect(validateFeatures(doc).map((e) => e.message)).to.deep.equal([]);
    expect(doc.ociVersionMin).to.match(/^1\.\d+\.\d+/);
  });

  it('takes no arguments', function () {
    const r = rt(['features', 'extra']);
    expect(r.status, describeResult(r)).to.not.equal(0);
  });

  it('names the libseccomp this build is linked with', function () {
    const v = native().seccompVersion();
    expect(features().annotations?.['io.github.seccomp.libseccomp.version']).to.equal(`${v.major}.${v.minor}.${v.micro}`);
  });

  it('says which cgroup drivers it has: cgroupfs on v1 and v2, systemd, and the user\'s systemd for a rootless runtime', function () {
    expect(features().linux?.cgroup).to.include({ v1: true, v2: true, systemd: true, systemdUser: true });
  });

  it('lists every hook of the spec', function () {
    expect(features().hooks).to.have.members(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });

  describe('what it lists is accepted in config.json', function () {
    useLeakCheck();
    beforeEach(function () {
      requireRoot(this);
    });

    it('every mount option', function () {
      const options = (features().mountOptions ?? []).filter((o) => !['idmap', 'ridmap', 'remount', 'bind', 'rbind'].includes(o));
      expect(options.length).to.be.above(30);
      // Options that only make sense on their own are tried one mount each; all on tmpfs.
      const b = makeBundle({
        args: ['true'],
        mutate: (c) => {
          c.mounts!.push(...options.map((o, i) => ({ destination: `/mnt/o${i}`, type: 'tmpfs', source: 'tmpfs', options: [o] })));
        },
      });
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
    });

    it('id-mapped mounts, when mountExtensions.idmap is enabled', function () {
      if (!features().linux?.mountExtensions?.idmap?.enabled) this.skip();
      const host = makeTempDir('idmap-src');
      writeFileSync(path.join(host, 'owned-by-root'), '');
      const b = makeBundle({
        args: ['stat', '-c', '%u', '/mnt/idmapped/owned-by-root'],
        mutate: (c) => {
          c.mounts!.push({
            destination: '/mnt/idmapped',
            type: 'bind',
            source: host,
            options: ['bind', 'idmap'],
            // On-disk ids (containerID) appear as hostID through the mount.
            uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
          } as never);
        },
      });
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('1000\n');
    });

    it('every memory policy mode and flag (linux.memoryPolicy is set, not ignored)', function () {
      const mp = features().linux?.memoryPolicy;
      expect(mp?.modes).to.include.members(['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_LOCAL']);
      const noNodes = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
      const policies = [
        ...(mp?.modes ?? []).map((mode) => ({ mode, nodes: noNodes.has(mode) ? undefined : '0' })),
        ...(mp?.flags ?? []).map((flag) => ({ mode: 'MPOL_BIND', nodes: '0', flags: [flag] })),
      ];
      for (const policy of policies) {
        const b = makeBundle({ args: ['true'], mutate: (c) => (c.linux!.memoryPolicy = policy) });
        const r = rt(['run', '--bundle', b.dir, uniqueId()]);
        expect(r.status, `${JSON.stringify(policy)}: ${describeResult(r)}`).to.equal(0);
      }
    });

    it('every namespace and capability', function () {
      const doc = features();
      const b = makeBundle({
        args: ['true'],
        mutate: (c) => {
          // Every listed namespace, new; the user namespace with id maps.
          c.linux!.namespaces = doc.linux!.namespaces!.map((type) => ({ type }));
          useUserns(c);
          c.process!.capabilities = { bounding: doc.linux!.capabilities!, permitted: doc.linux!.capabilities!, effective: doc.linux!.capabilities! };
        },
      });
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
    });
  });

  it('every seccomp action, operator, architecture and supported flag, when seccomp is enabled', function () {
    requireRoot(this);
    const s = features().linux?.seccomp;
    if (!s?.enabled) this.skip();
    // One rule per action and per operator, on syscalls `true` never makes. NOTIFY needs an
    // agent (listenerPath); ALLOW is the default action, so a rule with it is redundant.
    const unused = ['acct', 'swapon', 'swapoff', 'reboot', 'kexec_load', 'init_module', 'delete_module', 'syslog'];
    const actionRules = s!.actions!
      .filter((a) => a !== 'SCMP_ACT_ALLOW' && a !== 'SCMP_ACT_NOTIFY')
      .map((action, i) => ({ names: [unused[i % unused.length]!], action, args: [{ index: 0, value: 1000 + i, op: 'SCMP_CMP_EQ' }] }));
    const operatorRules = s!.operators!.map((op) => ({
      names: ['acct'],
      action: 'SCMP_ACT_ERRNO',
      args: [op === 'SCMP_CMP_MASKED_EQ' ? { index: 0, value: 7, valueTwo: 7, op } : { index: 0, value: 7, op }],
    }));
    const b = makeBundle({
      args: ['true'],
      mutate: (c) => {
        c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: s!.archs, flags: s!.supportedFlags, syscalls: [...actionRules, ...operatorRules] };
      },
    });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
  });

  it('reports seccomp as enabled only with actions, operators and architectures', function () {
    const s = features().linux?.seccomp;
    if (!s?.enabled) return;
    expect(s.actions).to.include.members(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL']);
    expect(s.operators).to.include.members(['SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ']);
    expect(s.archs).to.include('SCMP_ARCH_X86_64');
    for (const f of s.supportedFlags ?? []) expect(s.knownFlags).to.include(f);
  });
});
