import type { Env } from "./config.ts";

export type Out = { write(chunk: string): unknown; isTTY?: boolean };

/** Everything a command touches outside itself, so tests run the real program with their own streams and environment. */
export type Io = {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Env;
  cwd: string;
  fetch: typeof fetch;
};

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(), fetch };
}

export const print = (out: Out, line = "") => out.write(`${line}\n`);
export const printJson = (out: Out, value: unknown) => out.write(`${JSON.stringify(value, null, 2)}\n`);
/** One compact JSON object per line (NDJSON), for streams such as `--follow --json`. */
export const printJsonLine = (out: Out, value: unknown) => out.write(`${JSON.stringify(value)}\n`);
