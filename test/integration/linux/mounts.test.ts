// config.md "Mounts" and config-linux.md "Mount Propagation"/options: mounts are made in
// order with their options, as the container sees them in its mountinfo and in behaviour.
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../helpers/bundle.js';
import { detachMounts, isUnder, makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { startBackground, uniqueId, waitFor } from '../../helpers/runtime.js';
import { hostMount, keyValues, mountAt, parseMountInfo, runSh, runShOk, shBundle } from './support.js';

type Mount = NonNullable<OciConfig['mounts']>[number];
const addMounts = (...mounts: Mount[]) => (c: OciConfig) => c.mounts!.push(...mounts);

/** A host directory holding `top-file`, with a tmpfs mounted at `sub/` holding `nested-file`. */
function sourceWithSubmount(): { dir: string; unmount: () => void } {
  const dir = makeTempDir('src');
  writeFileSync(path.join(dir, 'top-file'), 'top\n');
  mkdirSync(path.join(dir, 'sub'));
  const unmount = hostMount(['-t', 'tmpfs', 'tmpfs'], path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub/nested-file'), 'nested\n');
  return { dir, unmount };
}

/** Run a script that prints mountinfo last; returns the key=value lines and the mount table. */
function runWithMountinfo(script: string, mutate: (c: OciConfig) => void) {
  const out = runShOk(`${script}; echo ---; cat /proc/self/mountinfo`, mutate);
  const [head, table] = out.split('---\n');
  return { kv: keyValues(head!), mounts: parseMountInfo(table!) };
}

describe('linux: mounts', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('bind and rbind', function () {
    it('bind: the source is visible, a mount nested under it is not', function () {
      const src = sourceWithSubmount();
      try {
        const out = runShOk('cat /m/top-file; ls -A /m/sub | wc -l', addMounts({ destination: '/m', type: 'bind', source: src.dir, options: ['bind'] }));
        expect(out).to.equal('top\n0\n');
      } finally {
        src.unmount();
      }
    });

    it('rbind: a mount nested under the source comes along', function () {
      const src = sourceWithSubmount();
      try {
        const out = runShOk('cat /m/top-file /m/sub/nested-file', addMounts({ destination: '/m', type: 'bind', source: src.dir, options: ['rbind'] }));
        expect(out).to.equal('top\nnested\n');
      } finally {
        src.unmount();
      }
    });

    it('a single file can be bound onto a destination that does not exist yet', function () {
      const dir = makeTempDir('file');
      writeFileSync(path.join(dir, 'app.conf'), 'setting=1\n');
      const out = runShOk('cat /etc/app/app.conf; [ -f /etc/app/app.conf ] && echo is-file', addMounts({ destination: '/etc/app/app.conf', type: 'bind', source: path.join(dir, 'app.conf'), options: ['rbind', 'ro'] }));
      expect(out).to.equal('setting=1\nis-file\n');
    });

    it('a bind source that does not exist fails naming the mount', function () {
      const r = runSh('true', addMounts({ destination: '/m', type: 'bind', source: '/nonexistent/src', options: ['rbind'] }));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.match(/mounts\[\d+\]\.source/);
      expect(r.stderr).to.include('/nonexistent/src');
    });
  });

  describe('ro and rw', function () {
    it('ro: writes fail with EROFS and mountinfo says ro', function () {
      const dir = makeTempDir('ro');
      const { kv, mounts } = runWithMountinfo('touch /m/x 2>&1; echo rc=$?', addMounts({ destination: '/m', type: 'bind', source: dir, options: ['rbind', 'ro'] }));
      expect(Number(kv.rc)).to.not.equal(0);
      expect(mountAt(mounts, '/m')!.options).to.include('ro');
    });

    it('rw: writes go through to the host directory', function () {
      const dir = makeTempDir('rw');
      const { mounts } = runWithMountinfo('echo from-container > /m/x', addMounts({ destination: '/m', type: 'bind', source: dir, options: ['rbind', 'rw'] }));
      expect(mountAt(mounts, '/m')!.options).to.include('rw');
      expect(readFileSync(path.join(dir, 'x'), 'utf8')).to.equal('from-container\n');
    });

    it('ro on an rbind leaves submounts writable; rro makes them read-only too', function () {
      const src = sourceWithSubmount();
      try {
        const script = 'touch /plain/sub/w 2>/dev/null; echo plain=$?; touch /rec/sub/w 2>/dev/null; echo rec=$?; touch /rec/w 2>/dev/null; echo rectop=$?';
        const out = keyValues(
          runShOk(
            script,
            addMounts(
              { destination: '/plain', type: 'bind', source: src.dir, options: ['rbind', 'ro'] },
              { destination: '/rec', type: 'bind', source: src.dir, options: ['rbind', 'rro'] },
            ),
          ),
        );
        expect(out.plain, 'submount of an ro rbind').to.equal('0');
        expect(out.rec, 'submount of an rro rbind').to.not.equal('0');
        expect(out.rectop, 'top of an rro rbind').to.not.equal('0');
      } finally {
        src.unmount();
      }
    });
  });

  describe('nosuid, nodev, noexec', function () {
    it('the flags show in mountinfo', function () {
      const { mounts } = runWithMountinfo(
        'true',
        addMounts(
          { destination: '/flags', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec'] },
          { destination: '/plain', type: 'tmpfs', source: 'tmpfs', options: ['suid', 'dev', 'exec'] },
        ),
      );
      expect(mountAt(mounts, '/flags')!.options).to.include.members(['nosuid', 'nodev', 'noexec']);
      expect(mountAt(mounts, '/plain')!.options).to.not.include.members(['nosuid']);
      expect(mountAt(mounts, '/plain')!.options.filter((o) => ['nosuid', 'nodev', 'noexec'].includes(o))).to.deep.equal([]);
    });

    it('bind mounts get the flags too', function () {
      const dir = makeTempDir('bindflags');
      const { mounts } = runWithMountinfo('true', addMounts({ destination: '/m', type: 'bind', source: dir, options: ['rbind', 'nosuid', 'nodev', 'noexec'] }));
      expect(mountAt(mounts, '/m')!.options).to.include.members(['nosuid', 'nodev', 'noexec']);
    });

    it('noexec refuses to execute a program; exec allows it', function () {
      const out = keyValues(
        runShOk(
          'for d in nx ex; do printf "#!/bin/sh\\nexit 0\\n" > /$d/prog && chmod 755 /$d/prog; done; ' +
            '/nx/prog; echo noexec=$?; /ex/prog; echo exec=$?',
          addMounts(
            { destination: '/nx', type: 'tmpfs', source: 'tmpfs', options: ['noexec'] },
            { destination: '/ex', type: 'tmpfs', source: 'tmpfs', options: ['exec'] },
          ),
        ),
      );
      expect(out.noexec).to.equal('126');
      expect(out.exec).to.equal('0');
    });
  });

  describe('tmpfs options', function () {
    it('size= and mode= are applied', function () {
      const out = keyValues(
        runShOk(
          'echo kb=$(df -k /t | awk \'NR==2 {print $2}\'); echo mode=$(stat -c %a /t)',
          addMounts({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=0710'] }),
        ),
      );
      expect(out.kb).to.equal('1024');
      expect(out.mode).to.equal('710');
    });

    it('a write beyond size= fails with ENOSPC', function () {
      const r = runSh('dd if=/dev/zero of=/t/big bs=1k count=200 2>&1', addMounts({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] }));
      expect(r.status).to.not.equal(0);
      expect(r.stdout).to.match(/No space left on device/);
    });
  });

  describe('destinations', function () {
    it('a relative destination is relative to the container root', function () {
      const { mounts } = runWithMountinfo('true', addMounts({ destination: 'rel/dir', type: 'tmpfs', source: 'tmpfs' }));
      expect(mountAt(mounts, '/rel/dir')?.fsType).to.equal('tmpfs');
    });

    it('missing parent directories of a destination are created', function () {
      const { kv, mounts } = runWithMountinfo('echo fs=$(stat -f -c %T /deep/a/b/c)', addMounts({ destination: '/deep/a/b/c', type: 'tmpfs', source: 'tmpfs' }));
      expect(kv.fs).to.equal('tmpfs');
      expect(mountAt(mounts, '/deep/a/b/c')?.fsType).to.equal('tmpfs');
    });

    it('mounts are made in order: a later mount on the same destination wins', function () {
      const dir = makeTempDir('order');
      writeFileSync(path.join(dir, 'from-bind'), 'x');
      const bind: Mount = { destination: '/stack', type: 'bind', source: dir, options: ['rbind'] };
      const tmpfs: Mount = { destination: '/stack', type: 'tmpfs', source: 'tmpfs' };
      expect(runShOk('ls -A /stack', addMounts(tmpfs, bind))).to.equal('from-bind\n');
      expect(runShOk('ls -A /stack', addMounts(bind, tmpfs))).to.equal('');
    });

    it('a mount inside an earlier mount lands in it', function () {
      const { mounts } = runWithMountinfo(
        'true',
        addMounts({ destination: '/outer', type: 'tmpfs', source: 'tmpfs', options: ['ro'] }, { destination: '/outer/inner', type: 'tmpfs', source: 'tmpfs' }),
      );
      const outer = mountAt(mounts, '/outer')!;
      const inner = mountAt(mounts, '/outer/inner')!;
      expect(inner.parent).to.equal(outer.id);
      expect(outer.options, 'the outer mount is still read-only in the end').to.include('ro');
    });
  });

  describe('propagation options', function () {
    /** A host dir that is a shared mount (so propagation between host and container shows). */
    function sharedDir() {
      const dir = makeTempDir('shared');
      mkdirSync(path.join(dir, 'late'));
      hostMount(['--bind', dir], dir);
      hostMount(['--make-shared'], dir);
      return { dir, release: () => detachMounts((mp) => isUnder(mp, dir)) };
    }

    /**
     * Start a container binding `src` at /src with `options`, then mount a tmpfs at
     * src/late on the host; says whether the container saw it.
     */
    async function seesHostMount(options: string[]): Promise<string> {
      const src = sharedDir();
      const ctl = makeTempDir('ctl');
      try {
        const b = shBundle(
          'echo ready; i=0; while [ ! -e /ctl/go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; ' +
            'if [ -e /src/late/marker ]; then echo seen; else echo unseen; fi',
          addMounts({ destination: '/src', type: 'bind', source: src.dir, options: ['rbind', ...options] }, { destination: '/ctl', type: 'bind', source: ctl, options: ['rbind'] }),
        );
        const bg = startBackground(['run', '--bundle', b.dir, uniqueId()]);
        await waitFor(() => bg.stdout().includes('ready'), 10_000, { what: 'the container to start' });
        hostMount(['-t', 'tmpfs', 'tmpfs'], path.join(src.dir, 'late'));
        writeFileSync(path.join(src.dir, 'late/marker'), 'x');
        writeFileSync(path.join(ctl, 'go'), '');
        const { status } = await bg.wait(30_000);
        expect(status, bg.stderr()).to.equal(0);
        return bg.stdout().split('\n')[1]!;
      } finally {
        src.release();
      }
    }

    it('rslave: a mount made on the host under the source appears inside', async function () {
      expect(await seesHostMount(['rslave'])).to.equal('seen');
    });

    it('rprivate: a mount made on the host under the source does not appear inside', async function () {
      expect(await seesHostMount(['rprivate'])).to.equal('unseen');
    });

    it('shared and private show in the optional fields of the mount', function () {
      const { mounts } = runWithMountinfo(
        'true',
        addMounts(
          { destination: '/sh', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
          { destination: '/pr', type: 'tmpfs', source: 'tmpfs', options: ['private'] },
          { destination: '/ub', type: 'tmpfs', source: 'tmpfs', options: ['unbindable'] },
        ),
      );
      expect(mountAt(mounts, '/sh')!.optional.some((f) => f.startsWith('shared:'))).to.equal(true);
      expect(mountAt(mounts, '/pr')!.optional).to.deep.equal([]);
      expect(mountAt(mounts, '/ub')!.optional).to.deep.equal(['unbindable']);
    });
  });
});
