// run and exec pass on the signals they get: queued until the process exists, then sent;
// dropped (and harmless) once it has gone. Run in a child Node process, so that the
// handlers never touch the test runner's own signals.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, makeTempDir } from '../helpers/context.js';

const PROBE = `
import { spawn } from 'node:child_process';
import { native } from ${JSON.stringify(path.join(REPO_ROOT, 'src/native/addon.ts'))};
import { SignalForwarder } from ${JSON.stringify(path.join(REPO_ROOT, 'src/operations/forward-signals.ts'))};

const signals = SignalForwarder.install();
// Before the process exists: the runtime must survive these, and keep them.
process.kill(process.pid, 'SIGTERM');
process.kill(process.pid, 'SIGUSR1');
await new Promise((r) => setTimeout(r, 100));
const child = spawn('sh', [process.argv[2]], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
await new Promise((r) => { const t = setInterval(() => { if (out.includes('ready')) { clearInterval(t); r(); } }, 10); });
const exited = new Promise((r) => child.once('exit', (code) => r(code)));
signals.target(native().pidfdOpen(child.pid));
const code = await exited;
signals.finish();
// After: dropped, and still not fatal.
process.kill(process.pid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 100));
console.log(JSON.stringify({ out, code }));
`;

/** Counts TERM and USR1, and exits 7 once it has had both (or 1 after 10 s). */
const TARGET = `n=0 i=0
trap 'echo TERM; n=$((n + 1))' TERM
trap 'echo USR1; n=$((n + 1))' USR1
echo ready
while [ $n -lt 2 ]; do
  sleep 0.05
  i=$((i + 1))
  [ $i -lt 200 ] || exit 1
done
exit 7
`;

describe('SignalForwarder', function () {
  this.timeout(20_000);

  it('queues signals until the process is known, sends them all, then drops them', function () {
    const dir = makeTempDir('signals');
    const script = path.join(dir, 'probe.mts');
    writeFileSync(script, PROBE);
    writeFileSync(path.join(dir, 'target.sh'), TARGET);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, path.join(dir, 'target.sh')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.status, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { out: string; code: number };
    // The kernel delivers pending signals lowest number first: the order is its own.
    expect(result.out.split('\n').filter(Boolean).sort()).to.deep.equal(['TERM', 'USR1', 'ready']);
    expect(result.code).to.equal(7);
  });
});
