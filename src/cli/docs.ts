// The manual pages (ts-runc(8), ts-runc-COMMAND(8)) and the bash completion, made at build
// time (scripts/build.mjs writes them to dist/man and dist/completion) from the same
// table as the help: one source for all three. Not part of the runtime's bundle.
import fs from 'node:fs';
import path from 'node:path';
import type { FlagSpec } from './args.js';
import type { Command } from './command.js';
import { COMMANDS, GLOBAL_FLAGS, HELP_FLAG, PROGRAM } from './table.js';
import { SIGNALS } from '../linux/signals.js';
import { VERSION } from './version.js';

/** Text for roff: backslashes, and a line starting with a control character. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function flagNames(f: FlagSpec): string[] {
  return [f.name, ...(f.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
}

function roffFlags(flags: readonly FlagSpec[]): string {
  return flags
    .map((f) => {
      const names = flagNames(f).map((n) => `\\fB${roff(n)}\\fR`).join(', ');
      const value = f.type === 'bool' ? '' : ` \\fI${roff(f.value ?? 'value')}\\fR`;
      const dflt = f.default !== undefined && f.type !== 'bool' ? ` (default: ${roff(String(f.default))})` : '';
      return `.TP\n${names}${value}\n${roff(f.usage)}${dflt}`;
    })
    .join('\n');
}

function paragraphs(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => roff(p.replace(/\n/g, ' ')))
    .join('\n.PP\n');
}

function header(title: string, name: string, summary: string): string {
  return `.TH ${title.toUpperCase()} 8 "" "${PROGRAM} ${VERSION}" "${PROGRAM} manual"\n.SH NAME\n${roff(name)} \\- ${roff(summary)}\n`;
}

export function commandManPage(c: Command): string {
  const others = COMMANDS.filter((o) => o !== c).map((o) => `.BR ${PROGRAM}\\-${roff(o.name)} (8)`);
  return `${header(`${PROGRAM}-${c.name}`, `${PROGRAM}-${c.name}`, c.summary)}.SH SYNOPSIS
.B ${PROGRAM}
[\\fIglobal options\\fR]
.B ${roff(c.name)}
[\\fIcommand options\\fR] ${roff(c.usage)}
.SH DESCRIPTION
${paragraphs(c.description)}
.SH OPTIONS
${roffFlags([...c.flags, HELP_FLAG])}
.SH EXAMPLE
.nf
${roff(c.example)}
.fi
.SH SEE ALSO
.BR ${PROGRAM} (8),
${others.join(',\n')}
`;
}

export function mainManPage(): string {
  const cmds = COMMANDS.map((c) => `.TP\n.BR ${PROGRAM}\\-${roff(c.name)} (8)\n${roff(c.summary)}`).join('\n');
  return `${header(PROGRAM, PROGRAM, 'an OCI-compliant container runtime (a runc drop-in)')}.SH SYNOPSIS
.B ${PROGRAM}
[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR...]
.SH DESCRIPTION
${paragraphs(`${PROGRAM} turns an OCI bundle (a config.json and a root filesystem) into a running container, with runc's command line, flags, exit codes, state and log format, so that container engines can use it as their runtime and people can drive it by hand.

Run "${PROGRAM} help COMMAND" or see the manual page of each command.`)}
.SH COMMANDS
${cmds}
.SH GLOBAL OPTIONS
${roffFlags(GLOBAL_FLAGS)}
`;
}

/** Placeholders whose values are paths: completed as file names. */
const PATH_VALUES = new Set(['FILE', 'DIR', 'PATH']);

function shellWords(words: readonly string[]): string {
  return words.join(' ');
}

function valueFlags(flags: readonly FlagSpec[], paths: boolean): string[] {
  return flags.filter((f) => f.type !== 'bool' && PATH_VALUES.has(f.value ?? '') === paths).flatMap(flagNames);
}

/** bash completion: commands, each command's flags, file names for path values, container ids. */
export function bashCompletion(): string {
  const fn = `_${PROGRAM.replace(/-/g, '_')}`;
  const perCommand = COMMANDS.map((c) => {
    const flags = [...c.flags, HELP_FLAG];
    const takesId = c.usage.startsWith('<container-id>');
    return `    ${c.name})
      flags='${shellWords(flags.flatMap(flagNames))}'
      pathflags='${shellWords(valueFlags(flags, true))}'
      valueflags='${shellWords(valueFlags(flags, false))}'
      takes_id=${takesId ? 1 : 0} ;;`;
  }).join('\n');
  return `# bash completion for ${PROGRAM}, generated from its command table (src/cli/docs.ts).
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local global_flags='${shellWords(GLOBAL_FLAGS.flatMap(flagNames))}'
  local global_path_flags='${shellWords(valueFlags(GLOBAL_FLAGS, true))}'
  local global_value_flags='${shellWords(valueFlags(GLOBAL_FLAGS, false))}'
  local commands='${shellWords([...COMMANDS.map((c) => c.name), 'help'])}'
  local cmd='' root=() i=1 w
  # The command is the first word that is neither a global flag nor a global flag's value.
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w=\${COMP_WORDS[i]}
    case " $global_path_flags $global_value_flags " in
      *" $w "*) [ "$w" = --root ] && root=(--root "\${COMP_WORDS[i+1]}"); i=$((i + 2)); continue ;;
    esac
    case $w in
      -*) ;;
      *) cmd=$w; break ;;
    esac
    i=$((i + 1))
  done
  if [ -z "$cmd" ]; then
    case " $global_path_flags " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
    case " $global_value_flags " in *" $prev "*) COMPREPLY=(); return ;; esac
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$global_flags" -- "$cur"))
    else COMPREPLY=($(compgen -W "$commands" -- "$cur")); fi
    return
  fi
  local flags='' pathflags='' valueflags='' takes_id=0
  case $cmd in
${perCommand}
    help|h) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
    *) return ;;
  esac
  case " $pathflags " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  case " $valueflags " in *" $prev "*) COMPREPLY=(); return ;; esac
  # Arguments given so far (not flags, not flag values).
  local npos=0 j=$((i + 1))
  while [ "$j" -lt "$COMP_CWORD" ]; do
    w=\${COMP_WORDS[j]}
    case " $pathflags $valueflags " in *" $w "*) j=$((j + 2)); continue ;; esac
    [[ $w == -* ]] || npos=$((npos + 1))
    j=$((j + 1))
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ "$takes_id" = 1 ] && [ "$npos" = 0 ]; then
    COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" "\${root[@]}" list -q 2>/dev/null)" -- "$cur"))
  elif [ "$cmd" = kill ] && [ "$npos" = 1 ]; then
    COMPREPLY=($(compgen -W '${shellWords(Object.keys(SIGNALS))}' -- "$cur"))
  fi
}
complete -F ${fn} ${PROGRAM}
`;
}

/** Write dist/man/*.8 and dist/completion/ts-runc (scripts/build.mjs calls this). */
export function writeDocs(outDir: string): string[] {
  const man = path.join(outDir, 'man');
  const completion = path.join(outDir, 'completion');
  fs.rmSync(man, { recursive: true, force: true });
  fs.mkdirSync(man, { recursive: true });
  fs.mkdirSync(completion, { recursive: true });
  const written: [string, string][] = [
    [path.join(man, `${PROGRAM}.8`), mainManPage()],
    ...COMMANDS.map((c): [string, string] => [path.join(man, `${PROGRAM}-${c.name}.8`), commandManPage(c)]),
    [path.join(completion, PROGRAM), bashCompletion()],
  ];
  for (const [file, text] of written) fs.writeFileSync(file, text);
  return written.map(([file]) => file);
}
