// config.md, Linux mount options: one test per option the spec says runtimes MUST implement.
//
// Each test runs a container with one mount at /conf-opt using the option (after its
// opposite where the option only clears a flag) and reads the container's mountinfo:
// per-mount flags (ro, nosuid, noatime, ...), superblock flags (sync, dirsync, lazytime) and
// propagation tags (shared:N, master:N, unbindable). Options the kernel does not show
// (iversion, silent, loud, ...) are checked by the mount succeeding on a tmpfs: tmpfs
// rejects unknown data options, so an option the runtime passed on as file-system data
// instead of handling it fails the mount.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../../test/helpers/context.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { isRoot, requireRoot } from '../../test/helpers/privileges.js';
import { describeResult } from '../../test/helpers/runtime.js';
import { type MountLine, clause, host, hostTmpfs, mountAt, parseMountInfo, runScript } from './support.js';

const DEST = '/conf-opt';

/** Host directories used as bind sources, made in `before`. */
interface Sources {
  /** A directory holding `file` and a tmpfs at `sub/` holding `subfile`, both private. */
  tree: string;
  /** Like tree, but both mounts shared (so copies in the container can be peers or slaves). */
  sharedTree: string;
}

interface OptionCase {
  /** The mount's options (default: [option]). */
  options?: string[];
  /** Bind source (default: a tmpfs). */
  source?: keyof Sources;
  /** rootfsPropagation for the container (default: the runtime's). */
  rootfsPropagation?: string;
  /** Extra mounts before the tested one. */
  before?: { destination: string; type: string; source: string; options?: string[] }[];
  /** Shell run in the container after printing mountinfo; its output follows a `--` line. */
  script?: string;
  /** Assertions on the mount at /conf-opt, all mounts, and the script's output. */
  check: (m: MountLine, all: MountLine[], out: string) => void;
}

const has = (list: string[], x: string) => list.includes(x);
const tagged = (m: MountLine, prefix: string) => m.optional.some((t) => t.startsWith(prefix));
const describeMount = (m: MountLine) => `${m.mountPoint} ${m.options.join(',')} [${m.optional.join(' ')}] ${m.fsType} ${m.superOptions.join(',')}`;

function flag(m: MountLine, f: string, want: boolean) {
  expect(has(m.options, f), `per-mount flag ${f} ${want ? 'set' : 'clear'}: ${describeMount(m)}`).to.equal(want);
}
function superFlag(m: MountLine, f: string, want: boolean) {
  expect(has(m.superOptions, f), `superblock flag ${f} ${want ? 'set' : 'clear'}: ${describeMount(m)}`).to.equal(want);
}
function mounted(m: MountLine) {
  expect(m.fsType, describeMount(m)).to.equal('tmpfs');
}
function propagation(m: MountLine, want: { shared: boolean; slave: boolean; unbindable?: boolean }) {
  const d = describeMount(m);
  expect(tagged(m, 'shared:'), `shared: ${d}`).to.equal(want.shared);
  expect(tagged(m, 'master:'), `slave (master:N): ${d}`).to.equal(want.slave);
  expect(has(m.optional, 'unbindable'), `unbindable: ${d}`).to.equal(want.unbindable ?? false);
}
function sub(all: MountLine[]): MountLine {
  const m = mountAt(all, `${DEST}/sub`);
  expect(m, `a mount at ${DEST}/sub`).to.not.equal(undefined);
  return m!;
}

const CASES: Record<string, OptionCase> = {
  async: { options: ['sync', 'async'], check: (m) => superFlag(m, 'sync', false) },
  atime: { options: ['noatime', 'atime'], check: (m) => flag(m, 'noatime', false) },
  bind: {
    options: ['bind'],
    source: 'tree',
    script: `cat ${DEST}/file; [ -e ${DEST}/sub/subfile ] && echo sub-visible || echo sub-hidden`,
    check: (_m, _all, out) => expect(out, 'the source\'s file visible, its submount not (bind is not recursive)').to.equal('in the tree\nsub-hidden\n'),
  },
  defaults: {
    check: (m) => {
      mounted(m);
      for (const f of ['nosuid', 'nodev', 'noexec', 'ro']) flag(m, f, false);
    },
  },
  dev: { options: ['nodev', 'dev'], check: (m) => flag(m, 'nodev', false) },
  diratime: { options: ['nodiratime', 'diratime'], check: (m) => flag(m, 'nodiratime', false) },
  dirsync: { check: (m) => superFlag(m, 'dirsync', true) },
  exec: { options: ['noexec', 'exec'], check: (m) => flag(m, 'noexec', false) },
  iversion: { check: mounted },
  lazytime: { check: (m) => superFlag(m, 'lazytime', true) },
  loud: { options: ['silent', 'loud'], check: mounted },
  noatime: { check: (m) => flag(m, 'noatime', true) },
  nodev: { check: (m) => flag(m, 'nodev', true) },
  nodiratime: { check: (m) => flag(m, 'nodiratime', true) },
  noexec: { check: (m) => flag(m, 'noexec', true) },
  noiversion: { check: mounted },
  nolazytime: { options: ['lazytime', 'nolazytime'], check: (m) => superFlag(m, 'lazytime', false) },
  norelatime: { check: mounted },
  nostrictatime: {
    options: ['strictatime', 'nostrictatime'],
    // without strictatime the kernel's default, relatime, applies again
    check: (m) => flag(m, 'relatime', true),
  },
  nosuid: { check: (m) => flag(m, 'nosuid', true) },
  private: {
    options: ['bind', 'private'],
    source: 'sharedTree',
    rootfsPropagation: 'slave',
    check: (m) => propagation(m, { shared: false, slave: false }),
  },
  rbind: {
    options: ['rbind'],
    source: 'tree',
    script: `cat ${DEST}/file ${DEST}/sub/subfile`,
    check: (_m, _all, out) => expect(out, 'the source\'s file and its submount\'s file').to.equal('in the tree\nin the submount\n'),
  },
  // relatime is also the kernel's default, and mount(8) lets noatime win over it
  // (`-o noatime,relatime` gives noatime), so only its plain use can be checked
  relatime: { check: (m) => flag(m, 'relatime', true) },
  remount: {
    before: [{ destination: DEST, type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] }],
    options: ['remount', 'ro'],
    check: (m, all) => {
      flag(m, 'ro', true);
      expect(all.filter((x) => x.mountPoint === DEST).length, 'mounts at /conf-opt (remounted, not stacked)').to.equal(1);
    },
  },
  ro: { check: (m) => flag(m, 'ro', true) },
  rprivate: {
    options: ['rbind', 'rprivate'],
    source: 'sharedTree',
    rootfsPropagation: 'slave',
    check: (m, all) => {
      propagation(m, { shared: false, slave: false });
      propagation(sub(all), { shared: false, slave: false });
    },
  },
  rshared: {
    options: ['rbind', 'rshared'],
    source: 'tree',
    check: (m, all) => {
      expect(tagged(m, 'shared:'), describeMount(m)).to.equal(true);
      expect(tagged(sub(all), 'shared:'), describeMount(sub(all))).to.equal(true);
    },
  },
  rslave: {
    options: ['rbind', 'rslave'],
    source: 'sharedTree',
    rootfsPropagation: 'slave',
    check: (m, all) => {
      propagation(m, { shared: false, slave: true });
      propagation(sub(all), { shared: false, slave: true });
    },
  },
  runbindable: {
    options: ['rbind', 'runbindable'],
    source: 'tree',
    check: (m, all) => {
      propagation(m, { shared: false, slave: false, unbindable: true });
      propagation(sub(all), { shared: false, slave: false, unbindable: true });
    },
  },
  rw: { options: ['ro', 'rw'], check: (m) => flag(m, 'rw', true) },
  shared: { check: (m) => expect(tagged(m, 'shared:'), describeMount(m)).to.equal(true) },
  silent: { check: mounted },
  slave: {
    options: ['bind', 'slave'],
    source: 'sharedTree',
    rootfsPropagation: 'slave',
    check: (m) => propagation(m, { shared: false, slave: true }),
  },
  strictatime: {
    check: (m) => {
      flag(m, 'relatime', false);
      flag(m, 'noatime', false);
    },
  },
  suid: { options: ['nosuid', 'suid'], check: (m) => flag(m, 'nosuid', false) },
  sync: { check: (m) => superFlag(m, 'sync', true) },
  unbindable: { check: (m) => propagation(m, { shared: false, slave: false, unbindable: true }) },
};

describe('config.md: Linux mount options', function () {
  useLeakCheck();
  let sources: Sources | undefined;
  const unmounts: (() => void)[] = [];

  before(function () {
    if (!isRoot()) return;
    const dir = makeTempDir('mount-sources');
    const makeTree = (name: string, shared: boolean) => {
      const tree = path.join(dir, name);
      unmounts.unshift(hostTmpfs(tree, ['size=64k']));
      writeFileSync(path.join(tree, 'file'), 'in the tree\n');
      unmounts.unshift(hostTmpfs(path.join(tree, 'sub'), ['size=64k']));
      writeFileSync(path.join(tree, 'sub', 'subfile'), 'in the submount\n');
      host('mount', ['--make-r' + (shared ? 'shared' : 'private'), tree]);
      return tree;
    };
    sources = { tree: makeTree('tree', false), sharedTree: makeTree('shared-tree', true) };
  });

  after(function () {
    for (const u of unmounts.splice(0)) u();
  });

  beforeEach(function () {
    requireRoot(this);
  });

  for (const [option, c] of Object.entries(CASES)) {
    clause(`config.mounts.option.${option}`, `mount option ${option}${c.options && c.options.join(',') !== option ? ` (as ${c.options.join(',')})` : ''}`, function () {
      const options = c.options ?? [option];
      const mount = c.source
        ? { destination: DEST, type: 'bind', source: sources![c.source], options }
        : { destination: DEST, type: 'tmpfs', source: 'tmpfs', options: [...options, 'size=64k'] };
      const r = runScript(`cat /proc/self/mountinfo; echo --; ${c.script ?? 'true'}`, {
        mutate: (cfg) => {
          cfg.mounts!.push(...(c.before ?? []), mount);
          if (c.rootfsPropagation) cfg.linux!.rootfsPropagation = c.rootfsPropagation;
        },
      });
      expect(r.status, `a container with ${JSON.stringify(mount)}: ${describeResult(r)}`).to.equal(0);
      const [mountinfo, out = ''] = r.stdout.split('--\n');
      const all = parseMountInfo(mountinfo!);
      const m = mountAt(all, DEST);
      expect(m, `a mount at ${DEST}`).to.not.equal(undefined);
      c.check(m!, all, out);
    });
  }
});
