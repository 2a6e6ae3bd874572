import { createHash } from "node:crypto";
import { createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Api } from "../api.ts";
import { unreachable } from "../api.ts";
import type { Ctx } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { bytes } from "../format.ts";
import { print, printJson, type Io } from "../io.ts";
import type { Artifact } from "../types.ts";

/** `best` and `last` name the job's weights; anything else is an artifact's name, its file name, or its id. */
export function pickArtifact(artifacts: Artifact[], which: string): Artifact {
  const wanted = which === "best" ? "weights/best.pt" : which === "last" ? "weights/last.pt" : which;
  const exact = artifacts.find((a) => a.name === wanted || a.id === wanted);
  if (exact) return exact;
  const byFile = artifacts.filter((a) => path.posix.basename(a.name) === wanted);
  if (byFile.length === 1) return byFile[0]!;
  const names = artifacts.map((a) => a.name).join(", ") || "none yet";
  throw new CliError(
    byFile.length > 1
      ? `"${which}" matches ${byFile.map((a) => a.name).join(", ")}: give the whole name`
      : `The job has no artifact "${which}" (its artifacts: ${names})`,
  );
}

/** Where the file goes: `-o` as given (into it, if it is a folder), else the artifact's file name in the current folder. */
export function destination(cwd: string, name: string, output: string | undefined): string {
  const file = path.posix.basename(name);
  if (!output) return path.resolve(cwd, file);
  const target = path.resolve(cwd, output);
  const isDir = output.endsWith("/") || output.endsWith(path.sep) || (statSync(target, { throwIfNoEntry: false })?.isDirectory() ?? false);
  return isDir ? path.join(target, file) : target;
}

export type Downloaded = { path: string; name: string; size: number; sha256: string; verified: true };

/**
 * Fetches the presigned link the API hands out and streams it to disk, hashing as it goes; the
 * file is kept only when its SHA-256 equals the one the worker recorded (else it is removed and
 * the command fails), and it appears under its name only once complete.
 */
export async function fetchArtifact(
  api: Api,
  io: Io,
  jobId: string,
  artifact: Pick<Artifact, "id" | "name" | "size" | "sha256">,
  dest: string,
): Promise<Downloaded> {
  const { url } = await api.get<{ url: string }>(`/jobs/${encodeURIComponent(jobId)}/artifacts/${artifact.id}/download`, {
    format: "json",
  });
  let res: Response;
  try {
    res = await io.fetch(url);
  } catch (err) {
    throw unreachable(new URL(url).origin, err);
  }
  if (!res.ok || !res.body)
    throw new CliError(`The object store answered ${res.status} for ${artifact.name}`, res.status >= 500 ? EXIT.UNAVAILABLE : EXIT.ERROR);
  const partial = `${dest}.part`;
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  const file = createWriteStream(partial, { mode: 0o644 });
  // pipeline hands the first error to every stream, so the one that failed is the one that reported first.
  let failed: "network" | "file" | undefined;
  source.once("error", () => (failed ??= "network"));
  file.once("error", () => (failed ??= "file"));
  try {
    await pipeline(source, tap, file);
  } catch (err) {
    rmSync(partial, { force: true });
    const e = err as NodeJS.ErrnoException;
    if (failed === "file") throw new CliError(`Cannot write ${dest}: ${e.code ?? e.message}`, EXIT.ERROR);
    throw new CliError(`Download of ${artifact.name} broke off: ${e.message}`, EXIT.UNAVAILABLE);
  }
  const sha256 = hash.digest("hex");
  if (sha256 !== artifact.sha256) {
    rmSync(partial, { force: true });
    throw new CliError(
      `Checksum mismatch for ${artifact.name}: recorded sha256 ${artifact.sha256}, downloaded ${sha256} (${size} bytes); nothing was kept`,
    );
  }
  renameSync(partial, dest);
  return { path: dest, name: artifact.name, size, sha256, verified: true };
}

export async function download(ctx: Ctx, jobId: string, which: string | undefined, opts: { output?: string }): Promise<number> {
  const { api } = ctx.api();
  const { artifacts } = await api.get<{ artifacts: Artifact[] }>(`/jobs/${encodeURIComponent(jobId)}/artifacts`);
  const artifact = pickArtifact(artifacts, which ?? "best");
  const dest = destination(ctx.io.cwd, artifact.name, opts.output);
  const got = await fetchArtifact(api, ctx.io, jobId, artifact, dest);
  reportDownload(ctx, got);
  return EXIT.OK;
}

export function reportDownload(ctx: Ctx, got: Downloaded) {
  if (ctx.json) printJson(ctx.io.stdout, got);
  else print(ctx.io.stdout, `Saved ${got.name} to ${got.path} (${bytes(got.size)}, sha256 ${got.sha256.slice(0, 12)}… verified)`);
}
