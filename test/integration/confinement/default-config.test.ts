// The walls of the config `ts-runc spec` writes (issue 3's "done means"): from inside such
// a container, loading a kernel module, mounting a file system, seeing the host's
// processes, reading /proc/kcore and writing /proc/sys all fail.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, uniqueId } from '../../helpers/runtime.js';
import { keyValues } from './support.js';

const SCRIPT = [
  'exec 2>&1',
  // a module file must exist for insmod to reach init_module(2)
  'echo junk > /dev/shm/m.ko',
  'insmod /dev/shm/m.ko; echo insmod=$?',
  'echo capeff=$(grep CapEff /proc/self/status | cut -f2)',
  'mkdir -p /dev/shm/mnt; mount -t tmpfs tmpfs /dev/shm/mnt; echo mount=$?',
  'echo procs=$(ls -d /proc/[0-9]* | wc -l)',
  'echo kcore_bytes=$(cat /proc/kcore 2>/dev/null | wc -c)',
  'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; echo sysw=$?',
  'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null; echo sysw2=$?',
  'echo sysrq=$(echo h > /proc/sysrq-trigger 2>/dev/null; echo $?)',
].join('; ');

describe('the default config (`ts-runc spec`)', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it('cannot load a kernel module, mount, see host processes, read /proc/kcore or write /proc/sys', function () {
    const b = makeBundle();
    // Replace the helper's config with exactly what `spec` writes, then only make it
    // non-interactive, give it the script, and keep it in the test cgroup.
    const cgroupsPath = b.config.linux!.cgroupsPath;
    rmSync(b.configPath);
    rtOk(['spec'], { cwd: b.dir });
    const spec = JSON.parse(readFileSync(path.join(b.dir, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['sh', '-c', SCRIPT];
    spec.linux.cgroupsPath = cgroupsPath;
    writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec));

    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
    const kv = keyValues(r.stdout);
    expect(kv.insmod, 'insmod succeeded').to.not.equal('0');
    // Without CAP_SYS_MODULE (16) and CAP_SYS_ADMIN (21) in the effective set; where the
    // kernel has modules at all, init_module is refused for the missing capability.
    const eff = BigInt(`0x${kv.capeff}`);
    expect((eff >> 16n) & 1n, 'CAP_SYS_MODULE').to.equal(0n);
    expect((eff >> 21n) & 1n, 'CAP_SYS_ADMIN').to.equal(0n);
    if (existsSync('/proc/modules')) expect(r.stdout).to.match(/insmod: .*Operation not permitted/);
    expect(kv.mount, 'mount succeeded').to.not.equal('0');
    // sh and its children only; the host has far more
    const hostProcs = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    expect(Number(kv.procs)).to.be.within(1, 5);
    expect(hostProcs).to.be.above(Number(kv.procs));
    expect(kv.kcore_bytes, existsSync('/proc/kcore') ? 'kcore is masked' : 'no kcore on this kernel').to.equal('0');
    expect(kv.sysw, '/proc/sys is writable').to.not.equal('0');
    expect(kv.sysw2, '/proc/sys is writable').to.not.equal('0');
    expect(kv.sysrq, '/proc/sysrq-trigger is writable').to.not.equal('0');
  });
});
