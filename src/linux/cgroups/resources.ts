// linux.resources group by group: the controller and the planner on cgroup v1 and on v2,
// side by side (the files and conversions of each version: resources-v1.ts, resources-v2.ts).
import { type GroupId, type TableEntry, hugetlbWrites } from './plan.js';
import { blkioV1, cpuV1, cpusetWrites, devicesV1, memoryV1, netClassV1, netPriorityV1, pidsWrites, rdmaWrites } from './resources-v1.js';
import { cpuV2, devicesV2, ioV2, memoryV2, noNetwork } from './resources-v2.js';

export type CgroupVersion = 1 | 2;

/** A group whose files and values are the same on v1 and v2. */
const both = (entry: TableEntry): Readonly<Record<CgroupVersion, TableEntry>> => ({ 1: entry, 2: entry });

export const RESOURCE_GROUPS: Readonly<Record<GroupId, Readonly<Record<CgroupVersion, TableEntry>>>> = {
  memory: { 1: { controller: 'memory', plan: memoryV1 }, 2: { controller: 'memory', plan: memoryV2 } },
  cpu: { 1: { controller: 'cpu', plan: cpuV1 }, 2: { controller: 'cpu', plan: cpuV2 } },
  cpuset: both({ controller: 'cpuset', plan: cpusetWrites }),
  pids: both({ controller: 'pids', plan: pidsWrites }),
  blockIO: { 1: { controller: 'blkio', plan: blkioV1 }, 2: { controller: 'io', plan: ioV2 } },
  hugetlb: {
    1: { controller: 'hugetlb', plan: hugetlbWrites('limit_in_bytes', 'rsvd.limit_in_bytes') },
    2: { controller: 'hugetlb', plan: hugetlbWrites('max', 'rsvd.max') },
  },
  // v2 has no net_cls or net_prio: the fields are only warned about there.
  netClass: { 1: { controller: 'net_cls', plan: netClassV1 }, 2: { controller: null, plan: noNetwork('network.classID') } },
  netPriority: { 1: { controller: 'net_prio', plan: netPriorityV1 }, 2: { controller: null, plan: noNetwork('network.priorities') } },
  rdma: both({ controller: 'rdma', plan: rdmaWrites }),
  devices: { 1: { controller: 'devices', plan: devicesV1 }, 2: { controller: 'devices', plan: devicesV2 } },
};
