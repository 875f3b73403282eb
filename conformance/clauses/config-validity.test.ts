// config.md: annotations, extensibility (unknown properties), valid values.
import { expect } from 'chai';
import type { OciConfig } from '../../test/helpers/bundle.js';
import { makeBundle } from '../../test/helpers/bundle.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { describeResult, rt, uniqueId } from '../../test/helpers/runtime.js';
import { clause, expectCreateFails, expectNoContainer, expectNoProblems, forceDelete, runScript } from './support.js';

/** Try `create` with each mutation; return the ones the runtime accepted (it must refuse all). */
function accepted(cases: Record<string, (c: OciConfig) => void>): string[] {
  const out: string[] = [];
  for (const [what, mutate] of Object.entries(cases)) {
    const b = makeBundle({ args: ['true'], mutate });
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id]);
    if (r.status === 0) {
      out.push(what);
      forceDelete(id);
    } else {
      try {
        expectNoContainer(id);
      } catch (err) {
        out.push(`${what}: refused but left something behind: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

describe('config.md: annotations, extensibility, valid values', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('Annotations', function () {
    clause('config.annotations.map', 'annotations that are not a key-value map are an error', function () {
      expectNoProblems(
        accepted({
          'annotations as an array': (c) => (c.annotations = ['org.example.key=value'] as never),
          'annotations as a string': (c) => (c.annotations = 'org.example.key=value' as never),
        }),
        'invalid configs the runtime accepted',
      );
    });

    clause('config.annotations.key-not-empty', 'an annotation with an empty key is an error', function () {
      expectCreateFails((c) => (c.annotations = { '': 'value' }), 'create with an empty annotation key');
    });

    clause('config.annotations.values-strings', 'an annotation whose value is not a string is an error', function () {
      expectNoProblems(
        accepted({
          'a number value': (c) => (c.annotations = { 'org.example.n': 1 } as never),
          'an object value': (c) => (c.annotations = { 'org.example.o': { a: 'b' } } as never),
          'a boolean value': (c) => (c.annotations = { 'org.example.b': true } as never),
        }),
        'invalid configs the runtime accepted',
      );
    });

    clause('config.annotations.unknown-keys', 'unknown annotation keys are accepted and ignored', function () {
      const r = runScript('echo ran', {
        mutate: (c) =>
          (c.annotations = { 'com.example.conformance': 'x', 'org.opencontainers.conformance.unknown': 'y', 'plain-key': '' }),
      });
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('ran\n');
    });
  });

  clause('config.extensibility.unknown-ignored', 'unknown properties anywhere in config.json are ignored', function () {
    const r = runScript('echo ran', {
      mutate: (c) => {
        c.conformanceUnknownTop = { nested: [1, 2] };
        c.process!.conformanceUnknown = 'x';
        c.root!['conformanceUnknown' as 'path'] = 'x' as never;
        c.linux!.conformanceUnknown = true;
        c.mounts![0]!['conformanceUnknown' as 'type'] = 'x';
        c.hooks = {
          conformanceUnknownHook: [{ path: '/bin/false' }],
          createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null'], conformanceUnknown: 1 } as never],
        } as never;
      },
    });
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('ran\n');
  });

  clause('config.valid-values.error', 'invalid values of known properties are errors', function () {
    expectNoProblems(
      accepted({
        'an unknown namespace type': (c) => c.linux!.namespaces.push({ type: 'conformance' }),
        'an unknown device type': (c) => (c.linux!.devices = [{ path: '/dev/conf', type: 'x', major: 1, minor: 3 }]),
        'an unknown rootfsPropagation': (c) => (c.linux!.rootfsPropagation = 'sideways'),
        'an unknown personality domain': (c) => (c.linux!.personality = { domain: 'CONFORMANCE' }),
        'an unknown time-namespace clock': (c) => {
          c.linux!.namespaces.push({ type: 'time' });
          c.linux!.timeOffsets = { conformance: { secs: 1, nanosecs: 0 } };
        },
        'a negative uid': (c) => (c.process!.user = { uid: -1, gid: 0 }),
        'a string terminal': (c) => (c.process!.terminal = 'yes' as never),
        'a mount destination that is not a string': (c) => c.mounts!.push({ destination: 42 as never, type: 'tmpfs', source: 'tmpfs' }),
        'a seccomp default action that does not exist': (c) => (c.linux!.seccomp = { defaultAction: 'SCMP_ACT_CONFORMANCE' }),
      }),
      'invalid configs the runtime accepted',
    );
  });
});
