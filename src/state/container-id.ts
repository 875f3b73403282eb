// Container IDs are checked as runc checks them: letters, digits, "_", "+", "-", "."
// (and not "." or ".."), so an ID is always a safe single path component.
import { UsageError } from '../util/errors.js';

const ID_PATTERN = /^[\w+\-.]+$/;

export function checkContainerId(id: string | undefined): string {
  if (id === undefined || id === '') throw new UsageError('container id cannot be empty');
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new UsageError(`invalid container id format: ${id}`);
  if (id.length > 1024) throw new UsageError(`invalid container id format: ${id.slice(0, 32)}...: too long`);
  return id;
}
