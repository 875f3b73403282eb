// How exec builds its process (runc's getProcess and setns-init rules): the command line's
// overrides of config.json's process, and the config filling in what a process leaves out.
import { expect } from 'chai';
import { effectiveProcess } from '../../src/linux/specconv/index.js';
import { type ExecOverrides, processFromOverrides } from '../../src/operations/exec.js';
import type { Process, Spec } from '../../src/spec/types.js';

function spec(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: {
      terminal: true,
      consoleSize: { height: 10, width: 20 },
      cwd: '/',
      args: ['sh'],
      env: ['PATH=/bin', 'TERM=xterm'],
      user: { uid: 0, gid: 0, additionalGids: [5] },
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }],
      noNewPrivileges: true,
      apparmorProfile: 'config-profile',
    },
  } as Spec;
}

function overrides(o: Partial<ExecOverrides> = {}): ExecOverrides {
  return { args: ['true'], env: [], tty: false, additionalGids: [], caps: [], ...o };
}

describe('exec: the process', function () {
  describe('processFromOverrides (flags over config.json\'s process)', function () {
    it('takes args, appends env, replaces cwd; terminal comes from --tty only', function () {
      const p = processFromOverrides(spec(), overrides({ args: ['ls', '-l'], env: ['A=1'], cwd: '/tmp' }));
      expect(p.args).to.deep.equal(['ls', '-l']);
      expect(p.env).to.deep.equal(['PATH=/bin', 'TERM=xterm', 'A=1']);
      expect(p.cwd).to.equal('/tmp');
      expect(p.terminal).to.equal(false);
      expect(p.consoleSize).to.equal(undefined);
      expect(processFromOverrides(spec(), overrides({ tty: true })).terminal).to.equal(true);
    });

    it('--user uid[:gid] and --additional-gids', function () {
      const p = processFromOverrides(spec(), overrides({ user: '1000:1001', additionalGids: ['7', '8'] }));
      expect(p.user).to.deep.equal({ uid: 1000, gid: 1001, additionalGids: [7, 8] });
      const uidOnly = processFromOverrides(spec(), overrides({ user: '1000' }));
      expect(uidOnly.user).to.deep.equal({ uid: 1000, gid: 0, additionalGids: [5] });
      expect(() => processFromOverrides(spec(), overrides({ user: 'abc' }))).to.throw(/parsing abc as int for uid/);
      expect(() => processFromOverrides(spec(), overrides({ user: '1:x' }))).to.throw(/parsing x as int for gid/);
    });

    it('--cap adds to bounding, effective and permitted; to ambient only with inheritable ones', function () {
      const p = processFromOverrides(spec(), overrides({ caps: ['CAP_NET_RAW'] }));
      expect(p.capabilities).to.deep.equal({
        bounding: ['CAP_KILL', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_NET_RAW'],
        permitted: ['CAP_KILL', 'CAP_NET_RAW'],
      });
      const s = spec();
      s.process!.capabilities!.inheritable = ['CAP_KILL'];
      expect(processFromOverrides(s, overrides({ caps: ['CAP_NET_RAW'] })).capabilities!.ambient).to.deep.equal(['CAP_NET_RAW']);
    });

    it('--no-new-privs, --apparmor, --process-label only when given', function () {
      expect(processFromOverrides(spec(), overrides()).noNewPrivileges).to.equal(true);
      expect(processFromOverrides(spec(), overrides({ noNewPrivs: false })).noNewPrivileges).to.equal(false);
      const p = processFromOverrides(spec(), overrides({ apparmor: 'other', processLabel: 'label' }));
      expect(p.apparmorProfile).to.equal('other');
      expect(p.selinuxLabel).to.equal('label');
    });

    it('refuses empty args and a relative --cwd', function () {
      expect(() => processFromOverrides(spec(), overrides({ args: [] }))).to.throw('process args cannot be empty');
      expect(() => processFromOverrides(spec(), overrides({ cwd: 'tmp' }))).to.throw(/process\.cwd/);
    });

    it('leaves the container\'s config alone', function () {
      const s = spec();
      processFromOverrides(s, overrides({ caps: ['CAP_NET_RAW'], env: ['B=2'] }));
      expect(s.process!.capabilities!.bounding).to.deep.equal(['CAP_KILL']);
      expect(s.process!.env).to.deep.equal(['PATH=/bin', 'TERM=xterm']);
    });
  });

  describe('effectiveProcess (a process.json, completed from the config)', function () {
    it('takes capabilities, rlimits and the AppArmor profile from the config when the process has none', function () {
      const p = effectiveProcess({ args: ['true'], cwd: '/' }, spec());
      expect(p.capabilities).to.deep.equal(spec().process!.capabilities);
      expect(p.rlimits).to.deep.equal(spec().process!.rlimits);
      expect(p.apparmorProfile).to.equal('config-profile');
    });

    it('keeps the process\'s own', function () {
      const own: Process = { args: ['true'], cwd: '/', capabilities: { bounding: [] }, rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }], apparmorProfile: 'own' };
      const p = effectiveProcess(own, spec());
      expect(p.capabilities).to.deep.equal({ bounding: [] });
      expect(p.rlimits).to.deep.equal([{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }]);
      expect(p.apparmorProfile).to.equal('own');
      expect(p.noNewPrivileges).to.equal(undefined);
    });
  });
});
