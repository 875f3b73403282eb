// The systemd driver's conversions, without systemd: cgroupsPath to unit and cgroup, the
// resources to unit properties (runc's systemd v2 rules), annotations to properties, and
// where the bus is. test/hosts/ checks the same against a real systemd.
import { expect } from 'chai';
import { annotationProperties } from '../../../src/linux/systemd/annotations.js';
import type { UnitProperty } from '../../../src/linux/systemd/bus-protocol.js';
import { busAddress, parseSystemdVersion } from '../../../src/linux/systemd/bus.js';
import { INFINITY, cpuQuotaProperties, rangeToBits, resourceProperties, startOnlyProperties } from '../../../src/linux/systemd/properties.js';
import { expandSlice, systemdUnit } from '../../../src/linux/systemd/unit.js';
import { ConfigError } from '../../../src/util/errors.js';

const byName = (props: UnitProperty[]) => Object.fromEntries(props.map((p) => [p.name, p.value]));
const DEBIAN_12 = 252;

describe('cgroups: systemd driver conversions', function () {
  describe('unit names and slices', function () {
    it('expands nested slices by their dashes; "-.slice" is the root', function () {
      expect(expandSlice('system.slice')).to.equal('/system.slice');
      expect(expandSlice('kubepods-burstable-pod1.slice')).to.equal('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice');
      expect(expandSlice('-.slice')).to.equal('/');
      for (const bad of ['system', '.slice', 'a--b.slice', '-a.slice', 'a/b.slice', 'a b.slice']) {
        expect(() => expandSlice(bad), bad).to.throw(ConfigError, /^linux\.cgroupsPath: invalid slice name/);
      }
    });

    it('reads slice:prefix:name as runc does, with ts-runc\'s defaults', function () {
      expect(systemdUnit('system.slice:docker:abc', 'id', false)).to.deep.equal({
        name: 'docker-abc.scope', type: 'scope', slice: 'system.slice', cgroup: '/system.slice/docker-abc.scope',
      });
      expect(systemdUnit('machine.slice:libpod:c1', 'id', false).cgroup).to.equal('/machine.slice/libpod-c1.scope');
      expect(systemdUnit(undefined, 'ctr', false)).to.deep.equal({
        name: 'ts-runc-ctr.scope', type: 'scope', slice: 'system.slice', cgroup: '/system.slice/ts-runc-ctr.scope',
      });
      expect(systemdUnit('', 'ctr', true).slice).to.equal('user.slice');
      expect(systemdUnit('-.slice:p:n', 'id', false).cgroup).to.equal('/p-n.scope');
      expect(systemdUnit('kubepods-besteffort.slice:cri-containerd:x', 'id', false).cgroup).to.equal('/kubepods.slice/kubepods-besteffort.slice/cri-containerd-x.scope');
    });

    it('a name ending in .slice is a slice unit where its own name puts it (the prefix is ignored)', function () {
      expect(systemdUnit('system.slice:ignored:pod-a.slice', 'id', false)).to.deep.equal({
        name: 'pod-a.slice', type: 'slice', slice: 'system.slice', cgroup: '/pod.slice/pod-a.slice',
      });
    });

    it('refuses other forms, naming the field', function () {
      expect(() => systemdUnit('/a/b', 'id', false)).to.throw(ConfigError, 'linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/a/b" instead');
      expect(() => systemdUnit('a.slice:p:', 'id', false)).to.throw(ConfigError, /the name .* is empty/);
      expect(() => systemdUnit('a.slice:p:x/y', 'id', false)).to.throw(ConfigError, /not a valid systemd unit name/);
      expect(() => systemdUnit(`a.slice:p:${'x'.repeat(300)}`, 'id', false)).to.throw(ConfigError, /not a valid systemd unit name/);
    });
  });

  describe('resources to properties', function () {
    it('CPU lists become systemd\'s byte masks, lowest CPUs first', function () {
      expect(rangeToBits('0', 'f')).to.deep.equal([1]);
      expect(rangeToBits('0-2,5', 'f')).to.deep.equal([0b100111]);
      expect(rangeToBits(' 8 , 1-2,', 'f')).to.deep.equal([0b110, 1]);
      for (const bad of ['', 'x', '3-1', '1-', '99999']) expect(() => rangeToBits(bad, 'linux.resources.cpu.cpus'), bad).to.throw(ConfigError, /^linux\.resources\.cpu\.cpus: /);
    });

    it('rounds a CPU quota up to whole 10 ms per second, and says what the file gets', function () {
      expect(cpuQuotaProperties(50000, 100000, DEBIAN_12)).to.deep.equal({
        properties: [{ name: 'CPUQuotaPeriodUSec', type: 't', value: 100000n }, { name: 'CPUQuotaPerSecUSec', type: 't', value: 500000n }],
        quota: 50000,
      });
      // 12345/100000 = 123450 us/s -> 130000 us/s -> a quota of 13000
      expect(cpuQuotaProperties(12345, 100000, DEBIAN_12).quota).to.equal(13000);
      expect(byName(cpuQuotaProperties(-1, 0, DEBIAN_12).properties)).to.deep.equal({ CPUQuotaPerSecUSec: INFINITY });
      expect(cpuQuotaProperties(0, 0, DEBIAN_12).properties).to.deep.equal([]);
      // No CPUQuotaPeriodUSec before systemd 242: the file alone carries the period.
      expect(byName(cpuQuotaProperties(20000, 50000, 241).properties)).to.deep.equal({ CPUQuotaPerSecUSec: 400000n });
    });

    it('converts memory, swap, CPU, pids and cpusets as runc\'s systemd v2 driver does', function () {
      const { properties, resources } = resourceProperties(
        {
          memory: { limit: 268435456, reservation: 134217728, swap: 536870912 },
          cpu: { shares: 1024, quota: 12345, period: 100000, cpus: '0-1', mems: '0' },
          pids: { limit: 0 },
        },
        DEBIAN_12,
      );
      expect(byName(properties)).to.deep.equal({
        MemoryMax: 268435456n,
        MemoryLow: 134217728n,
        MemorySwapMax: 268435456n,
        CPUWeight: 39n,
        CPUQuotaPeriodUSec: 100000n,
        CPUQuotaPerSecUSec: 130000n,
        AllowedCPUs: [3],
        AllowedMemoryNodes: [1],
      });
      expect(resources.cpu?.quota).to.equal(13000);
      expect(byName(resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 } }, DEBIAN_12).properties)).to.deep.equal({
        MemoryMax: INFINITY, MemorySwapMax: INFINITY, TasksMax: INFINITY,
      });
      expect(byName(resourceProperties({ memory: { limit: 1000, swap: 1000 } }, DEBIAN_12).properties)).to.deep.equal({ MemoryMax: 1000n, MemorySwapMax: 0n });
      expect(() => resourceProperties({ memory: { limit: 1000, swap: 10 } }, DEBIAN_12)).to.throw(ConfigError, /^linux\.resources\.memory\.swap: /);
    });

    it('cpu.idle 1 is CPUWeight 0 from systemd 252 on, and then the shares are left out', function () {
      const warned: string[] = [];
      expect(byName(resourceProperties({ cpu: { idle: 1, shares: 512 } }, DEBIAN_12, (m) => warned.push(m)).properties)).to.deep.equal({ CPUWeight: 0n });
      expect(warned).to.have.length(1);
      expect(byName(resourceProperties({ cpu: { idle: 1, shares: 512 } }, 251).properties)).to.deep.equal({ CPUWeight: 20n });
    });

    it('IO weights and limits name the block device', function () {
      const props = resourceProperties(
        {
          blockIO: {
            weight: 500,
            weightDevice: [{ major: 8, minor: 0, weight: 100 }],
            throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
            throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
          },
        },
        DEBIAN_12,
      ).properties;
      expect(byName(props)).to.deep.equal({
        IOWeight: 4950n,
        IODeviceWeight: [['/dev/block/8:0', 910n]],
        IOReadBandwidthMax: [['/dev/block/8:0', 1048576n]],
        IOWriteIOPSMax: [['/dev/block/8:16', 100n]],
      });
    });

    it('devices: strict with the allow list (runc\'s defaults after the config\'s), cleared first', function () {
      const props = resourceProperties({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, access: 'r' }] }, DEBIAN_12).properties;
      expect(props[0]).to.deep.equal({ name: 'DeviceAllow', type: 'a(ss)', value: [] });
      expect(props[1]).to.deep.equal({ name: 'DevicePolicy', type: 's', value: 'strict' });
      const allow = props[2]?.value as string[][];
      expect(allow[0]).to.deep.equal(['block-8', 'r']);
      expect(allow).to.deep.include(['char-*', 'm']);
      expect(allow).to.deep.include(['/dev/char/1:3', 'rwm']);
      expect(allow).to.deep.include(['char-136', 'rwm']);
      // Allow-all (no exception) is "auto"; no devices field: no device properties at all.
      expect(byName(resourceProperties({ devices: [{ allow: true, access: 'rwm' }] }, DEBIAN_12).properties).DevicePolicy).to.equal('auto');
      expect(resourceProperties({}, DEBIAN_12).properties).to.deep.equal([]);
    });

    it('unified keys systemd knows become properties; the others are left to the files', function () {
      const props = resourceProperties(
        { unified: { 'memory.high': '1073741824', 'memory.min': 'max', 'pids.max': '0', 'cpu.max': '25000 50000', 'cpu.weight': '300', 'cpuset.cpus': '1', 'io.latency': '8:0 target=10' } },
        DEBIAN_12,
      ).properties;
      expect(byName(props)).to.deep.equal({
        MemoryHigh: 1073741824n,
        MemoryMin: INFINITY,
        TasksMax: 1n,
        CPUQuotaPeriodUSec: 50000n,
        CPUQuotaPerSecUSec: 500000n,
        CPUWeight: 300n,
        AllowedCPUs: [2],
      });
      expect(() => resourceProperties({ unified: { 'memory.high': 'lots' } }, DEBIAN_12)).to.throw(ConfigError, 'linux.resources.unified["memory.high"]: "lots" is not a number or "max"');
      expect(() => resourceProperties({ unified: { 'cpu.max': '1 2 3' } }, DEBIAN_12)).to.throw(ConfigError, /cpu\.max.*QUOTA \[PERIOD\]/);
    });

    it('memory.oom.group is OOMPolicy, at start only and from systemd 253', function () {
      expect(startOnlyProperties({ unified: { 'memory.oom.group': '1' } }, 253)).to.deep.equal([{ name: 'OOMPolicy', type: 's', value: 'kill' }]);
      expect(startOnlyProperties({ unified: { 'memory.oom.group': '0' } }, 253)).to.deep.equal([{ name: 'OOMPolicy', type: 's', value: 'continue' }]);
      expect(startOnlyProperties({ unified: { 'memory.oom.group': '1' } }, DEBIAN_12)).to.deep.equal([]);
    });
  });

  describe('org.systemd.property.* annotations', function () {
    const ann = (name: string, value: string) => annotationProperties({ [`org.systemd.property.${name}`]: value, other: 'ignored' });

    it('reads GVariant text: typed and plain numbers, booleans, strings, arrays', function () {
      expect(ann('CollectMode', "'inactive-or-failed'")).to.deep.equal([{ name: 'CollectMode', type: 's', value: 'inactive-or-failed' }]);
      expect(ann('TimeoutStopUSec', 'uint64 123456789')).to.deep.equal([{ name: 'TimeoutStopUSec', type: 't', value: 123456789n }]);
      expect(ann('CPUWeight', '@t 50')).to.deep.equal([{ name: 'CPUWeight', type: 't', value: 50n }]);
      expect(ann('MemoryAccounting', 'true')).to.deep.equal([{ name: 'MemoryAccounting', type: 'b', value: true }]);
      expect(ann('KillSignal', '9')).to.deep.equal([{ name: 'KillSignal', type: 'i', value: 9 }]);
      expect(ann('IPAddressDeny', '["any"]')).to.deep.equal([{ name: 'IPAddressDeny', type: 'as', value: ['any'] }]);
      expect(ann('Description', '"a \\"quoted\\" word"')).to.deep.equal([{ name: 'Description', type: 's', value: 'a "quoted" word' }]);
    });

    it('turns xxxSec into xxxUSec in microseconds, as runc does', function () {
      expect(ann('TimeoutStopSec', 'uint64 123')).to.deep.equal([{ name: 'TimeoutStopUSec', type: 't', value: 123000000n }]);
      expect(ann('RuntimeMaxSec', '1.5')).to.deep.equal([{ name: 'RuntimeMaxUSec', type: 't', value: 1500000n }]);
    });

    it('refuses malformed ones, naming the annotation', function () {
      const field = (n: string) => new RegExp(`^annotations\\["org\\.systemd\\.property\\.${n}"\\]: `);
      expect(() => ann('Ab', '1')).to.throw(ConfigError, field('Ab'));
      expect(() => ann('CPU_Weight', '1')).to.throw(ConfigError, /letters only/);
      expect(() => ann('CPUWeight', 'uint64 -1')).to.throw(ConfigError, /out of range/);
      expect(() => ann('CPUWeight', 'uint64 "x"')).to.throw(ConfigError, /a string where a number was asked/);
      expect(() => ann('CPUWeight', '[1, "a"]')).to.throw(ConfigError, /a string where a number was asked/);
      expect(() => ann('CPUWeight', '[]')).to.throw(ConfigError, /needs a type/);
      expect(() => ann('CPUWeight', "'open")).to.throw(ConfigError, /unterminated/);
      expect(() => ann('CPUWeight', '1 2')).to.throw(ConfigError, /unexpected/);
      expect(() => ann('TimeoutStopSec', "'soon'")).to.throw(ConfigError, /seconds/);
      expect(() => ann('CPUWeight', `[${'['.repeat(10)}1${']'.repeat(10)}]`)).to.throw(ConfigError, /nested too deeply/);
      expect(() => ann('Description', `'${'x'.repeat(5000)}'`)).to.throw(ConfigError, /at most 4096/);
    });

    it('refuses properties that reach beyond the container\'s unit', function () {
      for (const [name, value] of [['PIDs', '@au [1]'], ['Conflicts', "'sshd.service'"], ['Wants', "'x.service'"], ['Slice', "'other.slice'"], ['BPFProgram', "'ingress:/sys/fs/bpf/p'"], ['IPIngressFilterPath', "'/x'"], ['Delegate', 'false']]) {
        expect(() => ann(name as string, value as string), name).to.throw(ConfigError, /is not a property of the container's own unit/);
      }
    });
  });

  describe('the bus', function () {
    it('root: the system bus socket (or systemd\'s private one); rootless: the user\'s session bus', function () {
      // Authenticated as the uid the daemon sees: this process's on the host (no user namespace here).
      const uid = process.geteuid!();
      expect(busAddress(false, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' })).to.deep.equal({ socket: '/run/systemd/private', direct: true, uid });
      expect(busAddress(false, { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${process.execPath}` })).to.deep.equal({ socket: process.execPath, direct: false, uid });
      expect(busAddress(true, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus,guid=x' })).to.deep.equal({ socket: '/run/user/1000/bus', direct: false, uid });
      expect(busAddress(true, { XDG_RUNTIME_DIR: '/run/user/7' })).to.deep.equal({ socket: '/run/user/7/bus', direct: false, uid });
      expect(() => busAddress(true, {})).to.throw(/no user D-Bus/);
    });

    it('reads systemd\'s version as runc does', function () {
      expect(parseSystemdVersion('252.39-1~deb12u2')).to.equal(252);
      expect(parseSystemdVersion('"v245.4-1.fc32"')).to.equal(245);
      expect(() => parseSystemdVersion('unknown')).to.throw(/version/);
    });
  });
});
