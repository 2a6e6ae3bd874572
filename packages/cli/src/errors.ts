/**
 * Exit codes. A followed job's outcome is the status code (0/1/2); the others say why the
 * command itself did not do its work, so a CI step can tell "the model failed" from "the CLI could not ask".
 */
export const EXIT = {
  OK: 0,
  /** A followed job, export or sweep ended FAILED. */
  FAILED: 1,
  /** A followed job, export or sweep was CANCELLED. */
  CANCELLED: 2,
  /** The server refused the request (4xx), a file could not be read or written, a checksum did not match. */
  ERROR: 3,
  /** No token, or the server refused it (401): expired, revoked, unknown. */
  AUTH: 4,
  /** The server could not be reached, or answered 5xx (503: Postgres or Redis away). */
  UNAVAILABLE: 5,
  /** Bad arguments. */
  USAGE: 64,
  /** Ctrl-C while following: the job keeps running. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user reads as one line; `fields` are the server's field messages (folded into that line). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usage = (message: string) => new CliError(message, EXIT.USAGE);

/** "The training config is invalid: train.epochs: At least 1; model: Required" — one line, whatever the server sent. */
export function errorLine(err: CliError): string {
  const fields = Object.entries(err.fields ?? {}).map(([k, msgs]) => `${k}: ${msgs.join(", ")}`);
  const text = fields.length ? `${err.message}: ${fields.join("; ")}` : err.message;
  return text.replace(/\s*\n\s*/g, " ");
}

/** A job's (or export's, sweep's) end as an exit code. */
export function outcomeExitCode(status: string): ExitCode {
  if (status === "SUCCEEDED" || status === "COMPLETED") return EXIT.OK;
  if (status === "CANCELLED") return EXIT.CANCELLED;
  return EXIT.FAILED;
}
