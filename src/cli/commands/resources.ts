// update, pause, resume, ps, events: the cgroup-backed commands (issue: resources).
import type { Command } from '../command.js';
import { UsageError } from '../../util/errors.js';

function notYet(name: string, usage: string, summary: string): Command {
  return {
    name,
    usage,
    summary,
    flags: [],
    minArgs: 1,
    run() {
      throw new UsageError(`${name} is not implemented yet`);
    },
  };
}

export const updateCommand = notYet('update', '<container-id>', 'update container resource constraints');
export const pauseCommand = notYet('pause', '<container-id>', 'pause suspends all processes inside the container');
export const resumeCommand = notYet('resume', '<container-id>', 'resumes all processes that have been previously paused');
export const psCommand = notYet('ps', '<container-id> [ps options]', 'ps displays the processes running inside a container');
export const eventsCommand = notYet('events', '<container-id>', 'display container events such as OOM notifications, cpu, memory, and IO usage statistics');
