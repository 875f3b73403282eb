// Reading a bundle's config.json: file -> JSON -> validated Spec, with one-line errors.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, ConfigErrors } from '../util/errors.js';
import { CONFIG_FILE } from './defaults.js';
import type { Spec } from './generated/config.js';
import { validateConfig } from './validate.js';

/**
 * Read, parse and validate `<bundleDir>/config.json`.
 * Throws ConfigError for an unreadable file or invalid JSON
 * (`config.json: no such file or directory`, `config.json: invalid JSON: ...`) and
 * ConfigErrors listing every problem, one per line, for an invalid document.
 */
export function loadConfig(bundleDir: string): Spec {
  const doc = parseJsonFile(path.join(bundleDir, CONFIG_FILE), CONFIG_FILE);
  const problems = validateConfig(doc).map((p) =>
    // A problem with the document itself (not an object) is about the file.
    p.field === '' ? new ConfigError(CONFIG_FILE, p.message) : p,
  );
  if (problems.length > 0) throw new ConfigErrors(problems);
  return doc as Spec;
}

/** Read and parse a JSON file; errors are ConfigErrors whose field is `label`. */
export function parseJsonFile(file: string, label: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(label, fsReason(err));
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(label, `invalid JSON: ${jsonReason(err, text)}`);
  }
}

/** `ENOENT: no such file or directory, open '/b/config.json'` -> `no such file or directory`. */
function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.message === 'string' && typeof e.code === 'string') {
    const text = e.message.replace(/^[A-Z0-9]+: /, '').split(',')[0];
    if (text) return text.trim();
  }
  return String(err);
}

/**
 * V8's JSON.parse messages may quote a stretch of the input (newlines included) and give a
 * character offset; make them one line with a line and column instead.
 */
export function jsonReason(err: unknown, text: string): string {
  let msg = err instanceof Error ? err.message : String(err);
  msg = msg.replace(/, "[\s\S]*" is not valid JSON$/, '').replace(/\s+/g, ' ').trim();
  const m = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(msg);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    msg = `${msg.slice(0, m.index)} at line ${line}, column ${column}`;
  }
  return msg;
}
