// features: what this build supports (features.md), as indented JSON like runc prints it.
import type { Command } from '../command.js';
import { printJson } from '../output.js';
import { features } from '../../operations/features.js';

export const featuresCommand: Command = {
  name: 'features',
  usage: '',
  summary: 'show the enabled features',
  flags: [],
  exactArgs: 0,
  run(ctx) {
    printJson(features(ctx.criu), 4);
    return 0;
  },
};
