'use strict';
// ts-runc's executable (copied to dist/ts-runc.cjs by scripts/build.mjs, which puts the
// shebang line above this comment). Every runtime operation is a new process, so start-up
// is paid each time: this loader compiles the bundled CLI (dist/ts-runc-main.cjs) and the
// validators (dist/ts-runc-validators.cjs, loaded only by commands that read a config)
// from V8 code caches made at build time, instead of parsing and compiling ~350 KB of
// JavaScript on every start. A cache V8 rejects (another Node version) is simply ignored.
// The shebang also drops NODE_EXTRA_CA_CERTS: with it set, Node parses the whole CA bundle
// at start-up (~45 ms), and ts-runc never makes a TLS connection.
const fs = require('fs');
const vm = require('vm');
const Module = require('module');

const writeCache = process.env.TSRUNC_WRITE_CODE_CACHE === '1';

// Commands that only look at or signal a container run a small part of the bundle, and
// deserializing a cache costs time in proportion to its size: they get a cache of their
// own, made from runs of those commands only. (Guessing the command from argv can only
// pick the other cache, which is slower, never wrong.)
const LIGHT = new Set(['state', 'list', 'kill', 'start', 'delete', 'pause', 'resume', 'ps']);
const FULL = new Set(['create', 'run', 'exec', 'update', 'events', 'features', 'spec']);
const command = process.argv.slice(2).find((a) => LIGHT.has(a) || FULL.has(a));
const flavour = LIGHT.has(command) ? 'light' : 'full';

/** Load one of our own bundled CommonJS files, from its code cache when there is one. */
function load(file, parent) {
  const cacheFile = file.endsWith('-main.cjs') ? `${file}.${flavour}.cache` : `${file}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache: compile normally
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (writeCache) process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
  const mod = new Module(file, parent);
  mod.filename = file;
  mod.paths = parent.paths;
  const dir = __dirname;
  const localRequire = (id) => (id.startsWith(`${dir}/`) && id.endsWith('.cjs') ? load(id, mod) : mod.require(id));
  script.runInThisContext()(mod.exports, localRequire, mod, file, dir);
  return mod.exports;
}

load(`${__dirname}/ts-runc-main.cjs`, module);
