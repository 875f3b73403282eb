// features: what this build and this kernel support (features.md).
import type { Command } from '../command.js';
import { UsageError } from '../../util/errors.js';

export const featuresCommand: Command = {
  name: 'features',
  usage: '',
  summary: 'show the enabled features',
  flags: [],
  exactArgs: 0,
  run() {
    throw new UsageError('features is not implemented yet');
  },
};
