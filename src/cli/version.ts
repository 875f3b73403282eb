// Version strings, inlined by the build (scripts/build.mjs defines them); running from
// source (tests) falls back to placeholders.
declare const __TSRUNC_VERSION__: string | undefined;
declare const __TSRUNC_COMMIT__: string | undefined;

export const VERSION = typeof __TSRUNC_VERSION__ === 'string' ? __TSRUNC_VERSION__ : '0.0.0-dev';
export const COMMIT = typeof __TSRUNC_COMMIT__ === 'string' ? __TSRUNC_COMMIT__ : 'unknown';
