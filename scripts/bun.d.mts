// Types of scripts/bun.mjs, for the tests that compile a weakened executable with it.
export function bunBinary(): string | null;
export function compileExecutable(bun: string, entry: string, outfile: string, options?: { weakenAutoload?: boolean }): void;
