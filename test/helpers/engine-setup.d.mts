// Types of test/helpers/engine-setup.mjs (shared with bench/lib/engines.mjs).
export function writeContainerdConfig(dir: string, sock: string, criLines?: string[]): string;
export function writePodmanConfig(
  dir: string,
  engineLines: string[],
): { CONTAINERS_CONF: string; CONTAINERS_REGISTRIES_CONF: string; CONTAINERS_STORAGE_CONF: string };
export function removeEmptyCgroupTree(mounts: string[], rel: string): void;
/** Live (not zombie) processes other than this one: [pid, comm, cmdline] for each. */
export function processes(): [number, string, string][];
export function killProcessesNaming(dir: string): void;
