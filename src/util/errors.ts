// Typed errors. Every failure that reaches the user is one of these, so the CLI can print
// one line (runc style: lower-case, no trailing period) and choose the exit status.

/** Base class: a user-facing failure with a one-line message. */
export class RuntimeError extends Error {
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A config.json (or process.json, resources JSON) value is invalid; names the OCI field path. */
export class ConfigError extends RuntimeError {
  /** Dotted OCI field path, e.g. `process.args` or `linux.namespaces[2].type`. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(field ? `${field}: ${reason}` : reason);
    this.field = field;
  }
}

/** Several config problems at once: printed one per line. */
export class ConfigErrors extends RuntimeError {
  readonly problems: ConfigError[];
  constructor(problems: ConfigError[]) {
    super(problems.map((p) => p.message).join('\n'));
    this.problems = problems;
  }
}

/** Command-line usage error (unknown flag, missing argument). */
export class UsageError extends RuntimeError {}

/** The container does not exist / is in the wrong state for the operation. */
export class ContainerStateError extends RuntimeError {}

/** A step inside the container's setup (in the native child) failed. */
export class ChildSetupError extends RuntimeError {
  readonly step: string;
  readonly errno: number;
  readonly detail: string;
  constructor(message: string, step: string, errno: number, detail: string) {
    super(message);
    this.step = step;
    this.errno = errno;
    this.detail = detail;
  }
}

/** A lifecycle hook failed or timed out. */
export class HookError extends RuntimeError {
  readonly hook: string;
  constructor(hook: string, message: string) {
    super(message);
    this.hook = hook;
  }
}

/** A system call or file operation done by the runtime itself (not the child) failed. */
export class SystemError extends RuntimeError {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** Render any thrown value as the one-line message the user sees. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Node's fs errors read like "ENOENT: no such file or directory, open '/x'".
 * runc users expect "open /x: no such file or directory"; convert when we can.
 */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const text = (e.message.split(',')[0] ?? '').replace(/^[A-Z0-9]+: /, '');
    const target = e.path ? ` ${e.path}` : '';
    return `${e.syscall}${target}: ${text}`;
  }
  return errorMessage(err);
}
