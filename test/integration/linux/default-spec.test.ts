// The config `ts-runc spec` writes, run as is (but for terminal: false and the program):
// its masked paths are masked and its read-only paths read-only inside the container.
import { expect } from 'chai';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir, testCgroupPath } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { rtOk } from '../../helpers/runtime.js';
import { dropNamespace, lines, mountAt, parseMountInfo, runBundle } from './support.js';

/** The config.json `<runtime> spec` generates. */
function generatedConfig(): OciConfig {
  const dir = makeTempDir('spec');
  rtOk(['spec', '--bundle', dir]);
  return JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as OciConfig;
}

/**
 * A busybox bundle whose config.json is the generated one, with terminal false, the
 * program `sh -c <script(config)>`, and a cgroupsPath the leak checker watches.
 */
function specBundle(script: (c: OciConfig) => string, mutate?: (c: OciConfig) => void): { bundle: Bundle; config: OciConfig } {
  const bundle = makeBundle();
  const config = generatedConfig();
  config.process!.terminal = false;
  config.process!.args = ['sh', '-c', script(config)];
  config.linux!.cgroupsPath = testCgroupPath();
  mutate?.(config);
  writeFileSync(bundle.configPath, JSON.stringify(config, null, 2));
  return { bundle, config };
}

const masked = (c: OciConfig) => c.linux!.maskedPaths as string[];
const readonly = (c: OciConfig) => c.linux!.readonlyPaths as string[];

/** Shell that reports each path as `<path> dir|file <entries|bytes>` or `<path> absent`. */
function describePaths(paths: string[]): string {
  return paths
    .map(
      (p) =>
        `if [ -d ${p} ]; then echo "${p} dir $(ls -A ${p} | wc -l)"; ` +
        `elif [ -e ${p} ]; then echo "${p} file $(cat ${p} 2>/dev/null | wc -c)"; else echo "${p} absent"; fi`,
    )
    .join('; ');
}

describe('linux: the default spec', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it('masked paths are empty inside (files read as /dev/null, directories as an empty tmpfs)', function () {
    const { bundle, config } = specBundle((c) => describePaths(masked(c)));
    const onHost = masked(config).filter((p) => existsSync(p));
    expect(onHost.length, 'some masked path exists on this host').to.be.above(0);
    const r = runBundle(bundle);
    expect(r.status, r.stderr).to.equal(0);
    const seen = Object.fromEntries(lines(r.stdout).map((l) => [l.split(' ')[0]!, l.split(' ').slice(1)]));
    for (const p of onHost) {
      const kind = statSync(p).isDirectory() ? 'dir' : 'file';
      expect(seen[p], p).to.deep.equal([kind, '0']);
    }
  });

  it('a masked file is the null device', function () {
    const files = masked(generatedConfig()).filter((p) => existsSync(p) && statSync(p).isFile());
    if (files.length === 0) this.skip();
    const { bundle } = specBundle(() => `stat -c "%n %t %T" ${files.join(' ')}`);
    const r = runBundle(bundle);
    expect(r.status, r.stderr).to.equal(0);
    expect(lines(r.stdout)).to.deep.equal(files.map((f) => `${f} 1 3`));
  });

  it('read-only paths are read-only mounts: writing to /proc/sys fails with EROFS', function () {
    const { bundle, config } = specBundle(() => 'echo 1 > /proc/sys/kernel/ns_last_pid; echo ---; cat /proc/self/mountinfo');
    const r = runBundle(bundle);
    const [, table] = r.stdout.split('---\n');
    expect(r.stderr + r.stdout).to.match(/Read-only file system/);
    const mounts = parseMountInfo(table!);
    for (const p of readonly(config).filter((q) => existsSync(q))) {
      expect(mountAt(mounts, p)?.options, p).to.include('ro');
    }
  });

  it('masked and read-only paths without a mount namespace fail instead of being skipped (as runc)', function () {
    const { bundle } = specBundle(() => 'true', (c) => dropNamespace(c, 'mount'));
    const r = runBundle(bundle);
    expect(r.status, 'the container ran without its masks').to.not.equal(0);
    expect(r.stderr).to.match(/mount namespace|MNT namespace/i);
  });
});
