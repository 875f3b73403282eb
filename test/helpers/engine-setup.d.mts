// Types of test/helpers/engine-setup.mjs (shared with bench/lib/engines.mjs).
export function writeContainerdConfig(dir: string, sock: string, criLines?: string[]): string;
export function writePodmanConfig(
  dir: string,
  engineLines: string[],
): { CONTAINERS_CONF: string; CONTAINERS_REGISTRIES_CONF: string; CONTAINERS_STORAGE_CONF: string };
export function removeEmptyCgroupTree(mounts: string[], rel: string): void;
