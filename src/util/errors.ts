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

/** No container has this id (runc's words). */
export class ContainerNotFoundError extends ContainerStateError {
  constructor() {
    super('container does not exist');
  }
}

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

/**
 * A file the user named (config.json, a --process or --pid-file path, `update -r`) cannot
 * be used. The message names the whole path, Go style for system call failures
 * (`open /b/config.json: no such file or directory`), and never quotes the file's content.
 */
export class FileError extends RuntimeError {
  readonly path: string;
  constructor(path: string, reason: string, syscall?: string) {
    super(syscall ? `${syscall} ${path}: ${reason}` : `${path}: ${reason}`);
    this.path = path;
  }

  /** From a Node fs error, with the path as we named it (never a temporary name). */
  static fromFs(err: unknown, syscall: string, path: string): FileError {
    return new FileError(path, errnoText(err), syscall);
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
    const target = e.path ? ` ${e.path}` : '';
    return `${e.syscall}${target}: ${errnoText(err)}`;
  }
  return errorMessage(err);
}

/** The errno's text of a Node fs error ("no such file or directory"), without code or path. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
    const text = (e.message.split(',')[0] ?? '').replace(/^[A-Z0-9]+: /, '').trim();
    if (text) return text;
  }
  return errorMessage(err);
}
