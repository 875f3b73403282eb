// The pure parts of update, ps and events: flag parsing as runc does it, merging an update
// into the resources in force, cutting ps(1) output down to a container, the stats JSON.
import { expect } from 'chai';
import { parseDuration, parseRamBytes, resourcesFromFlags } from '../../../src/cli/commands/resources.js';
import { filterPsOutput } from '../../../src/operations/ps.js';
import { mergeResources, sameFields, updateDelta } from '../../../src/operations/update.js';
import { toJson } from '../../../src/util/json-exact.js';
import { parseCpuList } from '../../../src/linux/cgroups/stats.js';
import { RuntimeError, UsageError } from '../../../src/util/errors.js';

describe('cgroups: command helpers', function () {
  it('parses memory sizes like docker/go-units RAMInBytes', function () {
    expect(parseRamBytes('1024')).to.equal(1024);
    expect(parseRamBytes('100m')).to.equal(100 << 20);
    expect(parseRamBytes('100M')).to.equal(100 << 20);
    expect(parseRamBytes('1.5GiB')).to.equal(1.5 * 1024 ** 3);
    expect(parseRamBytes('2 kb')).to.equal(2048);
    expect(parseRamBytes('-1')).to.equal(-1);
    expect(() => parseRamBytes('abc')).to.throw("invalid size: 'abc'");
    expect(() => parseRamBytes('-2')).to.throw("invalid size: '-2'");
  });

  it('parses Go durations', function () {
    expect(parseDuration('5s')).to.equal(5000);
    expect(parseDuration('100ms')).to.equal(100);
    expect(parseDuration('1m30s')).to.equal(90_000);
    expect(parseDuration('1.5h')).to.equal(5_400_000);
    expect(() => parseDuration('5')).to.throw(UsageError, 'invalid value "5" for flag -interval: parse error');
    expect(() => parseDuration('5s ')).to.throw(UsageError);
  });

  it('turns update flags into linux.resources', function () {
    const res = resourcesFromFlags({ memory: '64m', 'memory-swap': '-1', 'cpu-quota': '-1', 'cpu-share': '512', 'cpuset-cpus': '0-1', 'pids-limit': '0', 'blkio-weight': '300' });
    expect(res).to.deep.equal({
      memory: { limit: 64 << 20, swap: -1 },
      cpu: { quota: -1, shares: 512, cpus: '0-1' },
      pids: { limit: 0 },
      blockIO: { weight: 300 },
    });
    expect(() => resourcesFromFlags({ 'cpu-period': 'abc' })).to.throw(UsageError, 'invalid value for cpu-period: "abc" is not an unsigned integer');
    expect(() => resourcesFromFlags({ 'cpu-period': '-5' })).to.throw(UsageError, 'cpu-period');
    expect(() => resourcesFromFlags({ 'l3-cache-schema': 'L3:0=f' })).to.throw(UsageError, 'Intel RDT is not supported');
  });

  it('merges an update into the resources in force, objects member by member', function () {
    const base = { memory: { limit: 100, swap: 300, swappiness: 10 }, cpu: { quota: 5, period: 10 }, devices: [{ allow: false }] };
    const merged = mergeResources(base, { memory: { limit: 200 }, pids: { limit: 5 } });
    expect(merged).to.deep.equal({ memory: { limit: 200, swap: 300, swappiness: 10 }, cpu: { quota: 5, period: 10 }, devices: [{ allow: false }], pids: { limit: 5 } });
    expect(base.memory.limit, 'the base is not modified').to.equal(100);
  });

  it('writes the partners the kernel checks together, and can undo exactly those', function () {
    const current = { memory: { limit: 100, swap: 300, reservation: 50 }, cpu: { quota: 5, period: 10, shares: 2 } };
    const change = { memory: { limit: 200 }, cpu: { period: 20 } };
    const delta = updateDelta(change, mergeResources(current, change));
    expect(delta).to.deep.equal({ memory: { limit: 200, swap: 300, checkBeforeUpdate: undefined }, cpu: { quota: 5, period: 20 } });
    expect(sameFields(delta, current)).to.deep.equal({ memory: { limit: 100, swap: 300 }, cpu: { quota: 5, period: 10 } });
    expect(updateDelta({ pids: { limit: 3 } }, { pids: { limit: 3 } })).to.deep.equal({ pids: { limit: 3 } });
  });

  it('keeps ps(1)\'s header and the rows of the container\'s pids', function () {
    const out = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 10:00 ?        00:00:01 /sbin/init\nroot         42       1  0 10:01 ?        00:00:00 sleep 600\nroot        420       1  0 10:01 ?        00:00:00 sleep 60\n';
    expect(filterPsOutput(out, [42, 7])).to.equal('UID          PID    PPID  C STIME TTY          TIME CMD\nroot         42       1  0 10:01 ?        00:00:00 sleep 600\n');
    expect(() => filterPsOutput('COMMAND\nsleep\n', [1])).to.throw(RuntimeError, "couldn't find PID field in ps output");
  });

  it('writes JSON with exact 64-bit numbers and without undefined members', function () {
    expect(toJson({ a: 18446744073709551615n, b: undefined, c: [1, 'x', null], d: {} })).to.equal('{"a":18446744073709551615,"c":[1,"x",null],"d":{}}');
  });

  it('expands cpu lists', function () {
    expect(parseCpuList('0-2,5,7-8\n')).to.deep.equal([0, 1, 2, 5, 7, 8]);
    expect(parseCpuList('')).to.deep.equal([]);
  });
});
