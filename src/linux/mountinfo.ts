// /proc/<pid>/mountinfo (proc(5)): the one parser of it, for the runtime (cgroup layout,
// resctrl) and the tests alike. Paths in it are octal-escaped (`\040` for a space).

/** One line of a mountinfo file. */
export interface MountInfoLine {
  id: number;
  parent: number;
  /** major:minor of the file system. */
  dev: string;
  /** The path inside the file system that is mounted (field 4). */
  root: string;
  mountPoint: string;
  /** Per-mount options: ro, nosuid, nodev, noexec, relatime... */
  options: string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  optional: string[];
  fsType: string;
  source: string;
  /** Per-superblock options: ro, mode=..., size=..., cgroup controllers... */
  superOptions: string[];
}

/** Undo mountinfo's octal escapes. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse mountinfo text; lines that are not mount entries are skipped. */
export function parseMountInfo(text: string): MountInfoLine[] {
  const out: MountInfoLine[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    if (pre.length < 6) continue;
    out.push({
      id: Number(pre[0]),
      parent: Number(pre[1]),
      dev: pre[2]!,
      root: unescapeMountField(pre[3]!),
      mountPoint: unescapeMountField(pre[4]!),
      options: pre[5]!.split(','),
      optional: pre.slice(6),
      fsType: post[0] ?? '',
      source: unescapeMountField(post[1] ?? ''),
      superOptions: (post[2] ?? '').split(','),
    });
  }
  return out;
}
