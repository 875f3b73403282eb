// Reading a bundle's config.json: bounded file -> JSON -> validated Spec, with one-line
// errors naming the file by its whole path.
import path from 'node:path';
import { ConfigError, ConfigErrors } from '../util/errors.js';
import { readJson } from '../util/json-input.js';
import { CONFIG_FILE } from './defaults.js';
import type { Spec } from './generated/config.js';
import { validateConfig } from './validate.js';

/**
 * Read, parse and validate `<bundleDir>/config.json`. A file that cannot be read or is not
 * JSON is a FileError (`open /b/config.json: no such file or directory`,
 * `/b/config.json: invalid JSON: ... at line 3, column 1`); an invalid document is a
 * ConfigErrors listing every problem, one per line.
 */
export function loadConfig(bundleDir: string): Spec {
  const file = path.join(path.resolve(bundleDir), CONFIG_FILE);
  const doc = readJson({ file });
  const problems = validateConfig(doc).map((p) =>
    // A problem with the document itself (not an object) is about the file.
    p.field === '' ? new ConfigError(file, p.message) : p,
  );
  if (problems.length > 0) throw new ConfigErrors(problems);
  return doc as Spec;
}
