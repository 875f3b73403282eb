// The help, manual pages and bash completion come from one table (src/cli/table.ts):
// every command carries what they need, and what they render is well-formed.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/context.js';
import { bashCompletion, commandManPage, mainManPage, writeDocs } from '../../src/cli/docs.js';
import { commandHelp, helpText } from '../../src/cli/help.js';
import { COMMANDS, GLOBAL_FLAGS } from '../../src/cli/table.js';

const hasGroff = spawnSync('groff', ['--version']).status === 0;

describe('the command table', function () {
  it('every command has a summary, a description of whole sentences, and an example using it', function () {
    for (const c of COMMANDS) {
      expect(c.summary, c.name).to.match(/^[a-z]/);
      expect(c.description, c.name).to.match(/^[A-Z][\s\S]*\.$/);
      expect(c.example, c.name).to.match(new RegExp(`^ts-runc ${c.name}\\b`, 'm'));
    }
  });

  it('names are unique: commands, and each command\'s flags with their aliases', function () {
    expect(new Set(COMMANDS.map((c) => c.name)).size).to.equal(COMMANDS.length);
    for (const flags of [GLOBAL_FLAGS, ...COMMANDS.map((c) => c.flags)]) {
      const names = flags.flatMap((f) => [f.name, ...(f.aliases ?? [])]);
      expect(new Set(names).size, names.join(' ')).to.equal(names.length);
    }
  });
});

describe('help texts', function () {
  it('the main help lists every command and help, h', function () {
    const text = helpText();
    for (const c of COMMANDS) expect(text).to.match(new RegExp(`^   ${c.name} +${c.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
    expect(text).to.match(/^ {3}help, h +/m);
  });

  it('a command\'s help has its description, example and every flag', function () {
    for (const c of COMMANDS) {
      const text = commandHelp(c);
      expect(text).to.include(`DESCRIPTION:\n   ${c.description.split('\n')[0]}`);
      expect(text).to.include(`EXAMPLE:\n   ${c.example.split('\n')[0]}`);
      for (const f of c.flags) expect(text).to.include(`--${f.name}`);
    }
  });
});

describe('manual pages', function () {
  it('escape what roff would take as requests or escapes', function () {
    const page = commandManPage(COMMANDS.find((c) => c.name === 'update')!);
    // The example's JSON has no line starting with a dot, but backslashes and dashes are escaped.
    expect(page).to.include('\\-\\-memory 512m');
    expect(page).to.not.match(/^[.'](?!TH|SH|TP|PP|B |BR|nf|fi)/m);
  });

  it('render without warnings (groff -ww)', function () {
    if (!hasGroff) this.skip();
    for (const page of [mainManPage(), ...COMMANDS.map(commandManPage)]) {
      const r = spawnSync('groff', ['-man', '-ww', '-z'], { input: page, encoding: 'utf8' });
      expect(r.stderr, page.split('\n')[0]).to.equal('');
    }
  });

  it('writeDocs writes one page per command, the main page and the completion', function () {
    const out = makeTempDir('docs');
    const files = writeDocs(out).map((f) => path.relative(out, f)).sort();
    expect(files).to.deep.equal(
      ['completion/ts-runc', 'man/ts-runc.8', ...COMMANDS.map((c) => `man/ts-runc-${c.name}.8`)].sort(),
    );
    expect(readFileSync(path.join(out, 'man/ts-runc-create.8'), 'utf8')).to.equal(commandManPage(COMMANDS.find((c) => c.name === 'create')!));
  });
});

describe('bash completion', function () {
  it('is valid bash and completes commands and flags without a runtime', function () {
    const script = path.join(makeTempDir('completion'), 'ts-runc');
    writeFileSync(script, bashCompletion());
    execFileSync('bash', ['-n', script]);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=(ts-runc "$@"); COMP_CWORD=$#; _ts_runc; printf '%s\\n' "\${COMPREPLY[@]}"`, script, ...words], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    expect(complete('de')).to.deep.equal(['delete']);
    expect(complete('--log-format', 'json', 'ev')).to.deep.equal(['events']);
    expect(complete('exec', '--us')).to.deep.equal(['--user']);
    expect(complete('delete', '-')).to.deep.equal(['--force', '-f', '--help', '-h']);
  });
});

