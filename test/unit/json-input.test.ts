// Bounded JSON input (src/util/json-input.ts) and loadConfig's errors: only regular files,
// a size limit, a depth limit, errors that name the whole path and never quote the file.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/context.js';
import { smallConfig } from '../helpers/config-fixtures.js';
import { loadConfig } from '../../src/spec/load.js';
import { ConfigErrors, FileError } from '../../src/util/errors.js';
import { MAX_JSON_BYTES, MAX_JSON_DEPTH, checkJson, parseJsonText, readJson } from '../../src/util/json-input.js';

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

function bundleWith(text?: string): string {
  const dir = makeTempDir('spec-load');
  if (text !== undefined) writeFileSync(path.join(dir, 'config.json'), text);
  return dir;
}

describe('checkJson', function () {
  const ok = ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} ', '"s"', '0', '{"a":{"b":{}}}'];
  for (const text of ok) {
    it(`accepts ${text}`, function () {
      expect(checkJson(text, 10)).to.equal(null);
      expect(() => JSON.parse(text)).to.not.throw();
    });
  }

  const bad: [string, string, number][] = [
    ['', 'unexpected end of input', 0],
    ['{"a":1,}', 'expected a property name', 7],
    ['{"a" 1}', "expected ':' after a property name", 5],
    ['{"a":1}x', 'unexpected character after the document', 7],
    ['{"a":"b', 'unexpected end of input in a string', 7],
    ['{"a":"b\\x"}', 'invalid escape in a string', 7],
    ['{"a":tru}', 'unexpected character', 5],
    ['[1,2', 'unexpected end of input', 4],
    ['[1 2]', "expected ',' or ']'", 3],
    ['{"a":1 "b":2}', "expected ',' or '}'", 7],
    ['{"a":"\u0001"}', 'control character in a string', 6],
    ['\ufeff{}', 'unexpected character', 0],
    ['01', 'unexpected character after the document', 1],
  ];
  for (const [text, reason, pos] of bad) {
    it(`refuses ${JSON.stringify(text)}: ${reason} at ${pos}`, function () {
      expect(checkJson(text, 10)).to.deep.equal({ reason, pos });
      expect(() => JSON.parse(text)).to.throw(SyntaxError);
    });
  }

  it('counts depth across arrays and objects, and stops at the limit', function () {
    expect(checkJson('[{"a":[{}]}]', 4)).to.equal(null);
    expect(checkJson('[{"a":[{}]}]', 3)).to.deep.equal({ reason: 'nested deeper than 3 levels', pos: 7 });
    // Brackets inside strings are not nesting.
    expect(checkJson('["[[[[[[[[[[", "{{{{{{"]', 1)).to.equal(null);
  });
});

describe('parseJsonText', function () {
  it('refuses 100,000 levels of nesting with a clear error, not a stack overflow', function () {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const err = catchError(() => parseJsonText(deep, '/b/config.json'));
    expect(err).to.be.instanceOf(FileError);
    expect(err.message).to.equal(`/b/config.json: invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels at line 1, column ${MAX_JSON_DEPTH + 1}`);
  });

  it('takes exactly MAX_JSON_DEPTH levels, refuses one more, and does not count brackets that do not nest', function () {
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(() => parseJsonText(nested(MAX_JSON_DEPTH), 'x.json')).to.not.throw();
    expect(catchError(() => parseJsonText(nested(MAX_JSON_DEPTH + 1), 'x.json')).message).to.include(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    // More opening brackets than the limit, side by side or in strings: shallow all the same.
    const wide = `[${Array(MAX_JSON_DEPTH + 10).fill('{}').join(',')}]`;
    expect(parseJsonText(wide, 'x.json')).to.have.length(MAX_JSON_DEPTH + 10);
    const quoted = `{"a":"${'['.repeat(MAX_JSON_DEPTH + 1)}"}`;
    expect(parseJsonText(quoted, 'x.json')).to.deep.equal({ a: '['.repeat(MAX_JSON_DEPTH + 1) });
  });

  it('keeps integers beyond 2^53 exact wherever they are, and large non-integers as numbers', function () {
    const doc = parseJsonText('{"a":[{"b":{"c":18446744073709551615}}],"__proto__":{"d":-9223372036854775808}}', 'x.json') as any;
    expect(doc.a[0].b.c).to.equal(18446744073709551615n);
    expect(Object.getOwnPropertyDescriptor(doc, '__proto__')!.value.d).to.equal(-9223372036854775808n);
    expect(parseJsonText('{"a":1e300,"b":-1.5e20,"c":9007199254740991}', 'x.json')).to.deep.equal({ a: 1e300, b: -1.5e20, c: 9007199254740991 });
  });

  it('never quotes the document in its error (a secret stays secret)', function () {
    const secret = 'root:$6$hash-of-the-root-password:19000:0:99999:7:::\n';
    const err = catchError(() => parseJsonText(secret, '/b/config.json'));
    expect(err.message).to.equal('/b/config.json: invalid JSON: unexpected character at line 1, column 1');
    for (const piece of ['root', 'hash', '19000']) expect(err.message).to.not.include(piece);
  });
});

describe('readJson', function () {
  it('refuses a FIFO at once instead of waiting for a writer', function () {
    const fifo = path.join(makeTempDir('json-in'), 'config.json');
    execFileSync('mkfifo', [fifo]);
    const err = catchError(() => readJson({ file: fifo }));
    expect(err).to.be.instanceOf(FileError);
    expect(err.message).to.equal(`${fifo}: not a regular file`);
  });

  it('refuses a symlink to /dev/zero (a device) without reading it', function () {
    const link = path.join(makeTempDir('json-in'), 'config.json');
    symlinkSync('/dev/zero', link);
    expect(catchError(() => readJson({ file: link })).message).to.equal(`${link}: not a regular file`);
  });

  it('follows a symlink to a regular file (a symlinked config.json is legal)', function () {
    const dir = makeTempDir('json-in');
    writeFileSync(path.join(dir, 'real.json'), '{"a": 1}');
    symlinkSync('real.json', path.join(dir, 'config.json'));
    expect(readJson({ file: path.join(dir, 'config.json') })).to.deep.equal({ a: 1 });
  });

  it(`refuses a file larger than ${MAX_JSON_BYTES} bytes without reading it`, function () {
    const file = path.join(makeTempDir('json-in'), 'big.json');
    writeFileSync(file, '');
    execFileSync('truncate', ['-s', String(MAX_JSON_BYTES + 1), file]);
    expect(catchError(() => readJson({ file })).message).to.equal(`${file}: larger than ${MAX_JSON_BYTES} bytes`);
  });

  it('names the whole path of a file that cannot be opened, Go style, without Node\'s codes', function () {
    const file = path.join(makeTempDir('json-in'), 'nope', 'process.json');
    const err = catchError(() => readJson({ file }));
    expect(err.message).to.equal(`open ${file}: no such file or directory`);
    expect(err.message).to.not.match(/ENOENT/);
  });
});

describe('loadConfig', function () {
  it('returns the validated spec', function () {
    const spec = loadConfig(bundleWith(JSON.stringify(smallConfig())));
    expect(spec.process?.args).to.deep.equal(['sh']);
    expect(spec.root.path).to.equal('rootfs');
  });

  it('reports a missing config.json in one line naming its whole path', function () {
    const dir = bundleWith();
    expect(() => loadConfig(dir)).to.throw(FileError, new RegExp(`^open ${dir}/config\\.json: no such file or directory$`));
  });

  it('reports a config.json that is a directory', function () {
    const dir = bundleWith();
    mkdirSync(path.join(dir, 'config.json'));
    expect(() => loadConfig(dir)).to.throw(FileError, new RegExp(`^${dir}/config\\.json: is a directory$`));
  });

  it('a relative bundle is named by its absolute path', function () {
    const dir = bundleWith();
    const rel = path.relative(process.cwd(), dir);
    expect(catchError(() => loadConfig(rel)).message).to.equal(`open ${dir}/config.json: no such file or directory`);
  });

  it('reports invalid JSON with a line and column, on one line, quoting nothing', function () {
    const dir = bundleWith('{\n  "ociVersion": "1.3.0",\n}\n');
    expect(catchError(() => loadConfig(dir)).message).to.equal(
      `${dir}/config.json: invalid JSON: expected a property name at line 3, column 1`,
    );
    const dir2 = bundleWith('{"a":\ntru}');
    expect(catchError(() => loadConfig(dir2)).message).to.equal(`${dir2}/config.json: invalid JSON: unexpected character at line 2, column 1`);
    const dir3 = bundleWith('');
    expect(catchError(() => loadConfig(dir3)).message).to.equal(`${dir3}/config.json: invalid JSON: unexpected end of input at line 1, column 1`);
  });

  it('throws ConfigErrors listing every problem', function () {
    const c = smallConfig();
    delete c.root;
    c.process.args = [];
    c.linux.maskedPaths = ['proc/kcore'];
    const err = catchError(() => loadConfig(bundleWith(JSON.stringify(c))));
    expect(err).to.be.instanceOf(ConfigErrors);
    expect((err as ConfigErrors).problems.map((p) => p.field)).to.deep.equal(['root', 'process.args', 'linux.maskedPaths[0]']);
  });

  it('names config.json when the document is not an object', function () {
    const dir = bundleWith('[]');
    expect(catchError(() => loadConfig(dir)).message).to.equal(`${dir}/config.json: must be an object`);
  });
});
