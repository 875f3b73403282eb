// Help texts in runc's layout (urfave/cli): `ts-runc --help`, `ts-runc help CMD`,
// `ts-runc CMD --help`, and the version.
import { formatFlags } from './args.js';
import type { Command } from './command.js';
import { COMMANDS, GLOBAL_FLAGS, PROGRAM } from './table.js';
import { VERSION, COMMIT } from './version.js';
import { OCI_VERSION } from '../spec/defaults.js';
import { defaultStateRoot } from '../operations/context.js';

const indent = (text: string, by = '   ') =>
  text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

/** The default --root for the help text ($XDG_RUNTIME_DIR/ts-runc when rootless). */
function shownStateRoot(): string | undefined {
  const root = defaultStateRoot();
  return 'root' in root ? root.root : undefined;
}

export function helpText(): string {
  const rows = [...COMMANDS.map((c) => [c.name, c.summary]), ['help, h', 'shows a list of commands or help for one command']];
  const width = Math.max(...rows.map(([n]) => n!.length)) + 2;
  const cmds = rows.map(([n, s]) => `   ${n!.padEnd(width)}${s}`).join('\n');
  return `NAME:
   ${PROGRAM} - an OCI-compliant container runtime (a runc drop-in) in TypeScript

USAGE:
   ${PROGRAM} [global options] command [command options] [arguments...]

VERSION:
   ${VERSION}
   spec: ${OCI_VERSION}

COMMANDS:
${cmds}

GLOBAL OPTIONS:
${formatFlags(GLOBAL_FLAGS.map((f) => (f.name === 'root' ? { ...f, default: shownStateRoot() } : f)))}

Run '${PROGRAM} help COMMAND' (or '${PROGRAM} COMMAND --help') for one command, 'man ${PROGRAM}-COMMAND' for its manual.
`;
}

export function commandHelp(c: Command): string {
  return `NAME:
   ${PROGRAM} ${c.name} - ${c.summary}

USAGE:
   ${PROGRAM} ${c.name} [command options] ${c.usage}

DESCRIPTION:
${indent(c.description)}

EXAMPLE:
${indent(c.example)}
${c.flags.length ? `\nOPTIONS:\n${formatFlags(c.flags)}\n` : ''}`;
}

/**
 * runc's layout: the JavaScript runtime where runc names its Go (the installed executable is
 * Bun's), and libseccomp's version as runc prints it (loaded only for this).
 */
export function versionText(libseccomp: string): string {
  const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.version}`;
  return `${PROGRAM} version ${VERSION}\ncommit: ${COMMIT}\nspec: ${OCI_VERSION}\n${engine}\nlibseccomp: ${libseccomp}\n`;
}
