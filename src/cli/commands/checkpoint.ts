// checkpoint and restore (CRIU), with runc's flags.
import { type FlagSpec, flag } from '../args.js';
import type { Command } from '../command.js';
import type { SharedCriuFlags } from '../../criu/options.js';
import { checkpoint } from '../../operations/checkpoint.js';
import { restore } from '../../operations/restore.js';

/** Flags both commands have, with runc's help texts. */
const SHARED_FLAGS: FlagSpec[] = [
  { name: 'work-path', type: 'string', value: 'DIR', usage: 'path for saving work files and logs' },
  { name: 'tcp-established', type: 'bool', usage: 'allow open tcp connections' },
  { name: 'ext-unix-sk', type: 'bool', usage: 'allow external unix sockets' },
  { name: 'shell-job', type: 'bool', usage: 'allow shell jobs' },
  { name: 'lazy-pages', type: 'bool', usage: 'use userfaultfd to lazily restore memory pages' },
  { name: 'file-locks', type: 'bool', usage: 'handle file locks, for safety' },
  { name: 'manage-cgroups-mode', type: 'string', value: 'MODE', usage: 'cgroups mode: soft|full|strict|ignore (default: soft)' },
  { name: 'empty-ns', type: 'strings', value: 'NS', usage: "create a namespace, but don't restore its properties (network)" },
  { name: 'auto-dedup', type: 'bool', usage: 'enable auto deduplication of memory images' },
];

type Flags = Parameters<Command['run']>[1]['flags'];

function sharedOptions(f: Flags): SharedCriuFlags {
  return {
    workPath: flag.str(f, 'work-path'),
    tcpEstablished: flag.bool(f, 'tcp-established'),
    extUnixSk: flag.bool(f, 'ext-unix-sk'),
    shellJob: flag.bool(f, 'shell-job'),
    lazyPages: flag.bool(f, 'lazy-pages'),
    fileLocks: flag.bool(f, 'file-locks'),
    manageCgroupsMode: flag.str(f, 'manage-cgroups-mode'),
    emptyNs: flag.list(f, 'empty-ns'),
    autoDedup: flag.bool(f, 'auto-dedup'),
  };
}

export const checkpointCommand: Command = {
  name: 'checkpoint',
  usage: '<container-id>',
  summary: 'checkpoint a running container',
  description: `Saves a running (or paused) container with CRIU to a directory of image files
(--image-path, default ./checkpoint, which must be empty or new), then removes it, unless
--leave-running keeps it running. "restore" brings it back from the images, here or on
another machine. CRIU's log goes to --work-path, else to the image directory; an error
quotes CRIU's last errors and names that file. The criu on PATH is used, or the one the
global flag --criu names (CRIU 3.15 or newer that passes "criu check").

--pre-dump saves only the memory and leaves the container running, for an incremental
checkpoint whose final dump names it with --parent-path. --page-server sends the pages to
a "criu page-server"; --lazy-pages leaves them with a lazy page server and writes a zero
byte to --status-fd once it is ready.`,
  example: `ts-runc checkpoint --image-path /var/lib/ckpt/web web
# a snapshot: the container keeps running
ts-runc checkpoint --leave-running --image-path /tmp/snap web
# keep its established TCP connections (restore needs --tcp-established too)
ts-runc checkpoint --tcp-established --image-path /var/lib/ckpt/web web`,
  flags: [
    { name: 'image-path', type: 'string', value: 'DIR', usage: 'path for saving criu image files (default: ./checkpoint)' },
    { name: 'parent-path', type: 'string', value: 'DIR', usage: 'path for previous criu image files in pre-dump' },
    { name: 'leave-running', type: 'bool', usage: 'leave the process running after checkpointing' },
    { name: 'tcp-skip-in-flight', type: 'bool', usage: 'skip in-flight tcp connections' },
    { name: 'link-remap', type: 'bool', usage: 'allow one to link unlinked files back when possible' },
    { name: 'status-fd', type: 'int', value: 'FD', usage: 'criu writes \\0 to this FD once lazy-pages is ready', default: -1 },
    { name: 'page-server', type: 'string', value: 'ADDRESS:PORT', usage: 'ADDRESS:PORT of the page server' },
    { name: 'pre-dump', type: 'bool', usage: "dump container's memory information only, leave the container running after this" },
    ...SHARED_FLAGS,
  ],
  exactArgs: 1,
  run(ctx, { flags, args }) {
    checkpoint(ctx, {
      id: args[0] as string,
      imagePath: flag.str(flags, 'image-path'),
      parentPath: flag.str(flags, 'parent-path'),
      leaveRunning: flag.bool(flags, 'leave-running'),
      tcpSkipInFlight: flag.bool(flags, 'tcp-skip-in-flight'),
      linkRemap: flag.bool(flags, 'link-remap'),
      statusFd: flag.int(flags, 'status-fd', -1),
      pageServer: flag.str(flags, 'page-server'),
      preDump: flag.bool(flags, 'pre-dump'),
      ...sharedOptions(flags),
    });
    return 0;
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  usage: '<container-id>',
  summary: 'restore a container from a previous checkpoint',
  description: `Brings back a container saved by "checkpoint", from the CRIU images in --image-path
(default ./checkpoint), under the id given (the saved one or a new one) and with the
bundle given (--bundle, default the current directory): its config.json and root
filesystem, which may be a copy of the saved container's. Its cgroups are made as
"create" makes them, and the prestart and createRuntime hooks run once CRIU has made the
namespaces. The container comes back running.

Without --detach ts-runc stays in the foreground as "run" does: signals are passed on,
the terminal is relayed, and when the container's process exits the container is removed
and ts-runc exits with its status. As in runc, a new network namespace comes back empty
(the runtime does not manage network devices, so their configuration is not saved).`,
  example: `ts-runc restore --detach --image-path /var/lib/ckpt/web --bundle /srv/web web
# the snapshot as a second container, from a copy of the bundle
ts-runc restore -d --image-path /tmp/snap --bundle /srv/web-copy web2
# in the foreground, waiting for it
ts-runc restore --image-path /var/lib/ckpt/job --bundle /srv/job job`,
  flags: [
    { name: 'image-path', type: 'string', value: 'DIR', usage: 'path to criu image files for restoring (default: ./checkpoint)' },
    { name: 'bundle', aliases: ['b'], type: 'string', value: 'DIR', usage: 'path to the root of the bundle directory' },
    { name: 'detach', aliases: ['d'], type: 'bool', usage: "detach from the container's process" },
    { name: 'pid-file', type: 'string', value: 'FILE', usage: 'specify the file to write the process id to' },
    { name: 'console-socket', type: 'string', value: 'PATH', usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
    { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' },
    { name: 'no-pivot', type: 'bool', usage: 'do not use pivot root to jail process inside rootfs (CRIU restores the mount namespace as it was saved)' },
    { name: 'lsm-profile', type: 'string', value: 'TYPE:NAME', usage: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.' },
    { name: 'lsm-mount-context', type: 'string', value: 'CONTEXT', usage: 'Specify an LSM mount context to be used during restore.' },
    ...SHARED_FLAGS,
  ],
  exactArgs: 1,
  run(ctx, { flags, args }) {
    return restore(ctx, {
      id: args[0] as string,
      imagePath: flag.str(flags, 'image-path'),
      bundle: flag.str(flags, 'bundle'),
      detach: flag.bool(flags, 'detach'),
      pidFile: flag.str(flags, 'pid-file'),
      consoleSocket: flag.str(flags, 'console-socket'),
      lsmProfile: flag.str(flags, 'lsm-profile'),
      lsmMountContext: flag.str(flags, 'lsm-mount-context'),
      ...sharedOptions(flags),
    });
  },
};
