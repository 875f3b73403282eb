import { runSh } from './support.js';
const show = (name: string, r: any) => console.log(`### ${name}: status=${r.status}\nOUT:${r.stdout}\nERR:${r.stderr}`);
describe('probe', function () {
  it('probe', function () {
    show('lo', runSh('cat /sys/class/net/lo/flags; cat /sys/class/net/lo/operstate', () => {}));
    show('fifo', runSh('cat /proc/self/sched | grep policy', (c) => { c.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10 }; }));
    show('rr', runSh('cat /proc/self/sched | grep policy', (c) => { c.process!.scheduler = { policy: 'SCHED_RR', priority: 10 }; }));
    show('ioprio', runSh('true', (c) => { c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE' }; }));
    show('mpol', runSh('grep Mems /proc/self/status', (c) => { c.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }; }));
    show('pids0', runSh('echo hi', (c) => { c.linux!.resources = { pids: { limit: 0 } }; }));
    show('ktcp', runSh('cat /sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes', (c) => { c.linux!.resources = { memory: { kernelTCP: 10485760 } }; }));
    show('tmpfsmode', runSh('stat -c %a /etc', (c) => { c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: [] }); }));
    show('tmpcopyup', runSh('ls /etc | head -3', (c) => { c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }); }));
    show('rlimit', runSh('grep "Max core" /proc/self/limits', (c) => { (c.process as any).rlimits = [{ type: 'RLIMIT_CORE', soft: 1, hard: 1 }]; }));
    show('memneg', runSh('true', (c) => { c.linux!.resources = { memory: { limit: -5 } }; }));
    show('envnoeq', runSh('true', (c) => { c.process!.env!.push('NOEQ'); }));
    show('affinity', runSh('true', (c) => { (c.process as any).execCPUAffinity = { initial: '0', final: '0' }; }));
    show('bindroot', runSh('ls /', (c) => { c.mounts!.unshift({ destination: '/', type: 'bind', source: c.root!.path, options: ['rbind'] }); }));
    show('pgrp', runSh('cat /proc/self/stat', () => {}));
  });
});
