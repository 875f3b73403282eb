// features: a valid Features structure (features.md), whose lists are what the runtime
// really recognises: every listed mount option, namespace and capability is accepted in a
// config.json, and the libseccomp annotation is the library this build is linked with.
import { expect } from 'chai';
import { native } from '../../src/native/addon.js';
import { validateFeatures } from '../../src/spec/validate.js';
import { makeBundle } from '../helpers/bundle.js';
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

  it('reports seccomp as enabled only with actions, operators and architectures', function () {
    const s = features().linux?.seccomp;
    if (!s?.enabled) return;
    expect(s.actions).to.include.members(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL']);
    expect(s.operators).to.include.members(['SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ']);
    expect(s.archs).to.include('SCMP_ARCH_X86_64');
    for (const f of s.supportedFlags ?? []) expect(s.knownFlags).to.include(f);
  });
});
