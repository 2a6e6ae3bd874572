import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Api } from "../api.ts";
import { configPath } from "../config.ts";
import type { Ctx } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { bytes, since, table } from "../format.ts";
import { print, printJson } from "../io.ts";
import type { Team } from "../types.ts";

// `wyolo dataset ls|create|upload|show`: datasets of a team, and versions uploaded straight to the
// object store through the presigned part URLs the API hands out (the server never carries the bytes).

type Version = {
  id: string;
  version: number;
  label: string;
  ref: string;
  status: string;
  task: string | null;
  parentVersion: number | null;
  fileCount: number | null;
  totalBytes: number | null;
  errors: number | null;
  warnings: number | null;
  archived: boolean;
  jobCount: number;
  createdAt: string;
};
type Dataset = { id: string; name: string; description: string; versionCount: number; latest: Version | null; updatedAt: string };
type Upload = { partSize: number; partCount: number; size: number; uploaded: { partNumber: number; etag: string }[] | null; done: boolean };
type Part = { partNumber: number; url: string };

const ARCHIVE = /\.(zip|tar|tar\.gz|tgz)$/i;
const PARALLEL = 4;
const TRIES = 4;

/** `--team <slug>`, else the team of the default project, else the only team the token sees. */
async function resolveTeam(ctx: Ctx, api: Api, slug: string | undefined): Promise<Team> {
  const { teams } = await api.get<{ teams: Team[] }>("/teams");
  const wanted = slug ?? ctx.settings.project?.split("/")[0];
  if (wanted) {
    const team = teams.find((t) => t.slug === wanted || t.id === wanted);
    if (!team) throw new CliError(`No team "${wanted}" (yours: ${teams.map((t) => t.slug).join(", ") || "none"})`, EXIT.ERROR);
    return team;
  }
  if (teams.length === 1) return teams[0]!;
  throw new CliError(`Name the team with --team (yours: ${teams.map((t) => t.slug).join(", ") || "none"})`, EXIT.USAGE);
}

async function findDataset(api: Api, team: Team, name: string): Promise<Dataset> {
  const { datasets } = await api.get<{ datasets: Dataset[] }>(`/teams/${team.id}/datasets`);
  const dataset = datasets.find((d) => d.name === name);
  if (!dataset)
    throw new CliError(
      `No dataset "${name}" in ${team.slug} (its datasets: ${datasets.map((d) => d.name).join(", ") || "none"})`,
      EXIT.ERROR,
    );
  return dataset;
}

const status = (v: Version) =>
  `${v.status}${v.archived ? " (archived)" : ""}${v.errors ? `, ${v.errors} errors` : ""}${v.warnings ? `, ${v.warnings} warnings` : ""}`;

export async function datasetLs(ctx: Ctx, opts: { team?: string }): Promise<number> {
  const { api } = ctx.api();
  const team = await resolveTeam(ctx, api, opts.team);
  const answer = await api.get<{ datasets: Dataset[]; usage: { usedBytes: number; quotaBytes: number } }>(`/teams/${team.id}/datasets`);
  if (ctx.json) printJson(ctx.io.stdout, answer);
  else if (!answer.datasets.length) print(ctx.io.stdout, `No datasets in ${team.slug}: wyolo dataset create <name>`);
  else {
    print(
      ctx.io.stdout,
      table(
        ["NAME", "VERSIONS", "LATEST READY", "TASK", "FILES", "UPDATED"],
        answer.datasets.map((d) => [
          d.name,
          d.versionCount,
          d.latest?.ref ?? "-",
          d.latest?.task ?? "-",
          d.latest?.fileCount ?? "-",
          since(d.updatedAt),
        ]),
      ),
    );
    print(ctx.io.stdout, `\n${team.slug} uses ${bytes(answer.usage.usedBytes)} of ${bytes(answer.usage.quotaBytes)}`);
  }
  return EXIT.OK;
}

export async function datasetCreate(ctx: Ctx, name: string, opts: { team?: string; description?: string }): Promise<number> {
  const { api } = ctx.api();
  const team = await resolveTeam(ctx, api, opts.team);
  const { dataset } = await api.post<{ dataset: Dataset }>(`/teams/${team.id}/datasets`, { name, description: opts.description ?? "" });
  if (ctx.json) printJson(ctx.io.stdout, { dataset });
  else print(ctx.io.stdout, `Created ${dataset.name} in ${team.slug}: wyolo dataset upload ${dataset.name} <folder|archive>`);
  return EXIT.OK;
}

export async function datasetShow(ctx: Ctx, name: string, opts: { team?: string }): Promise<number> {
  const { api } = ctx.api();
  const team = await resolveTeam(ctx, api, opts.team);
  const { dataset } = await api.get<{ dataset: Dataset & { versions: Version[] } }>(`/datasets/${(await findDataset(api, team, name)).id}`);
  if (ctx.json) printJson(ctx.io.stdout, { dataset });
  else {
    print(ctx.io.stdout, `${dataset.name}${dataset.description ? `: ${dataset.description}` : ""}`);
    if (dataset.versions.length)
      print(
        ctx.io.stdout,
        `\n${table(
          ["VERSION", "STATUS", "TASK", "FROM", "FILES", "SIZE", "JOBS", "CREATED"],
          dataset.versions.map((v) => [
            v.ref,
            status(v),
            v.task ?? "-",
            v.parentVersion ? `v${v.parentVersion}` : "-",
            v.fileCount ?? "-",
            v.totalBytes == null ? "-" : bytes(v.totalBytes),
            v.jobCount,
            since(v.createdAt),
          ]),
        )}`,
      );
    else print(ctx.io.stdout, "No versions yet");
  }
  return EXIT.OK;
}

/** A folder becomes a .tar.gz (the system's tar, as every OS since Windows 10 has one); an archive goes as it is. */
async function archiveOf(ctx: Ctx, source: string): Promise<{ file: string; cleanup: () => void }> {
  const full = path.resolve(ctx.io.cwd, source);
  if (!existsSync(full)) throw new CliError(`${source}: no such file or folder`, EXIT.ERROR);
  if (!statSync(full).isDirectory()) {
    if (!ARCHIVE.test(full)) throw new CliError(`${source}: upload a folder, or a .zip, .tar, .tar.gz or .tgz archive`, EXIT.USAGE);
    return { file: full, cleanup: () => {} };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-dataset-"));
  const file = path.join(dir, `${path.basename(full)}.tar.gz`);
  await new Promise<void>((resolve, reject) => {
    const tar = spawn("tar", ["-czf", file, "-C", full, "."], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    tar.stderr.on("data", (d: Buffer) => (err += d.toString()));
    tar.on("error", (e) =>
      reject(new CliError(`Cannot run tar to pack ${source} (${e.message}): pack it yourself and upload the archive`)),
    );
    tar.on("close", (code) => (code === 0 ? resolve() : reject(new CliError(`tar could not pack ${source}: ${err.trim()}`))));
  });
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Where an upload's sent parts are kept, so `--resume` can finish it from another run. */
const statePath = (ctx: Ctx, versionId: string) => path.join(path.dirname(configPath(ctx.io.env)), "uploads", `${versionId}.json`);
type State = { file: string; etags: Record<number, string> };

function readPart(file: string, partNumber: number, partSize: number, size: number): Buffer {
  const start = (partNumber - 1) * partSize;
  const length = Math.min(partSize, size - start);
  const buf = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, length, start);
  } finally {
    closeSync(fd);
  }
  return buf;
}

async function putPart(ctx: Ctx, part: Part, body: Buffer): Promise<string> {
  let last = "";
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    try {
      const res = await ctx.io.fetch(part.url, { method: "PUT", body: new Uint8Array(body), signal: AbortSignal.timeout(300_000) });
      const etag = res.headers.get("etag");
      if (res.ok && etag) return etag;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
  throw new CliError(`Part ${part.partNumber} could not be uploaded (${last})`, EXIT.UNAVAILABLE);
}

/** Sends the parts not sent yet, PARALLEL at a time, keeping each ETag on disk as it lands. */
async function sendParts(ctx: Ctx, api: Api, versionId: string, file: string, upload: Upload, state: State): Promise<void> {
  const sp = statePath(ctx, versionId);
  mkdirSync(path.dirname(sp), { recursive: true, mode: 0o700 });
  for (const p of upload.uploaded ?? []) state.etags[p.partNumber] ??= p.etag;
  const missing = Array.from({ length: upload.partCount }, (_, i) => i + 1).filter((n) => !state.etags[n]);
  let sent = upload.partCount - missing.length;
  for (let i = 0; i < missing.length; i += 100) {
    const { parts } = await api.post<{ parts: Part[] }>(`/dataset-versions/${versionId}/upload/parts`, {
      partNumbers: missing.slice(i, i + 100),
    });
    const queue = [...parts];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          if (ctx.signal.aborted)
            throw new CliError(`Stopped; finish it with: wyolo dataset resume ${versionId} <the same archive>`, EXIT.INTERRUPTED);
          state.etags[part.partNumber] = await putPart(ctx, part, readPart(file, part.partNumber, upload.partSize, upload.size));
          writeFileSync(sp, JSON.stringify(state), { mode: 0o600 });
          sent++;
          if (!ctx.json)
            ctx.io.stderr.write(`\ruploaded ${sent}/${upload.partCount} parts (${Math.round((100 * sent) / upload.partCount)}%)`);
        }
      }),
    );
  }
  if (!ctx.json) ctx.io.stderr.write("\n");
}

async function finish(ctx: Ctx, api: Api, versionId: string): Promise<number> {
  const { version } = await api.get<{ version: Version }>(`/dataset-versions/${versionId}`);
  if (ctx.json) printJson(ctx.io.stdout, { version });
  else
    print(ctx.io.stdout, `${version.ref}: ${status(version)} (wyolo dataset show ${version.label.split("@")[0]} shows it once validated)`);
  return EXIT.OK;
}

async function sendAndComplete(ctx: Ctx, api: Api, versionId: string, file: string, upload: Upload, state: State): Promise<void> {
  await sendParts(ctx, api, versionId, file, upload, state);
  const parts = Object.entries(state.etags).map(([n, etag]) => ({ partNumber: Number(n), etag }));
  await api.post(`/dataset-versions/${versionId}/upload/complete`, { parts });
  rmSync(statePath(ctx, versionId), { force: true });
}

/** A new version: a folder or archive (packed and sent in parts), or `--from vN` with `--remove` paths and optionally files to add. */
export async function datasetUpload(
  ctx: Ctx,
  name: string,
  source: string | undefined,
  opts: { team?: string; from?: string; remove?: string[] },
): Promise<number> {
  const { api } = ctx.api();
  const team = await resolveTeam(ctx, api, opts.team);
  const dataset = await findDataset(api, team, name);
  const parent = opts.from ? Number(opts.from.replace(/^v/, "")) : undefined;
  if (opts.from && !Number.isInteger(parent)) throw new CliError(`--from takes a version such as v2, not "${opts.from}"`, EXIT.USAGE);
  if (!source && parent === undefined)
    throw new CliError("Give a folder or archive to upload, or --from vN with --remove paths", EXIT.USAGE);
  const archive = source ? await archiveOf(ctx, source) : null;
  try {
    const file = archive ? { name: path.basename(archive.file), size: statSync(archive.file).size } : undefined;
    const created = await api.post<{ version: Version; upload: Upload | null }>(`/datasets/${dataset.id}/versions`, {
      ...(file ? { file } : {}),
      ...(parent !== undefined ? { parent } : {}),
      removedPaths: opts.remove ?? [],
    });
    const { version, upload } = created;
    if (!ctx.json)
      print(
        ctx.io.stderr,
        `${version.label}: ${upload ? `uploading ${bytes(upload.size)} in ${upload.partCount} parts` : "made from its parent"}`,
      );
    if (upload && archive) await sendAndComplete(ctx, api, version.id, archive.file, upload, { file: archive.file, etags: {} });
    return await finish(ctx, api, version.id);
  } finally {
    archive?.cleanup();
  }
}

/** Finishes an interrupted upload of an archive: only the parts not sent yet go. */
export async function datasetResume(ctx: Ctx, versionId: string, source: string): Promise<number> {
  const { api } = ctx.api();
  const file = path.resolve(ctx.io.cwd, source);
  if (!existsSync(file) || statSync(file).isDirectory())
    throw new CliError(`${source}: give the archive that was being uploaded`, EXIT.USAGE);
  const { upload } = await api.get<{ upload: Upload }>(`/dataset-versions/${encodeURIComponent(versionId)}/upload`);
  if (!upload.done) {
    if (statSync(file).size !== upload.size)
      throw new CliError(`${source} is not the archive of that upload (its size differs)`, EXIT.ERROR);
    const sp = statePath(ctx, versionId);
    const state = existsSync(sp) ? (JSON.parse(readFileSync(sp, "utf8")) as State) : { file, etags: {} };
    await sendAndComplete(ctx, api, versionId, file, upload, state);
  }
  return finish(ctx, api, versionId);
}
