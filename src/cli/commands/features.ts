// features: what this build supports (features.md), as indented JSON like runc prints it.
import type { Command } from '../command.js';
import { printJson } from '../output.js';
import { features } from '../../operations/features.js';

export const featuresCommand: Command = {
  name: 'features',
  usage: '',
  summary: 'show the enabled features',
  description: `Prints what this build of ts-runc supports (runtime-spec "Features"), as JSON: the
runtime-spec versions, hooks, mount options, namespaces, capabilities, cgroup, seccomp,
AppArmor, SELinux and id-mapped mount support.`,
  example: `ts-runc features
ts-runc features | jq .linux.namespaces`,
  flags: [],
  exactArgs: 0,
  run(ctx) {
    printJson(features(ctx.criu), 4);
    return 0;
  },
};
