import { readFileSync } from "node:fs";
import path from "node:path";
import { pageUrl, type Ctx } from "../context.ts";
import { CliError, EXIT, outcomeExitCode, usage } from "../errors.ts";
import { followJob } from "../follow.ts";
import { print, printJson } from "../io.ts";
import { resolveProject } from "../project.ts";
import { PRIORITIES, type Submitted } from "../types.ts";
import { followSweep } from "./sweep.ts";

export type SubmitOptions = { project?: string; priority?: string; name?: string; follow?: boolean };

async function readConfigText(ctx: Ctx, file: string): Promise<string> {
  if (file === "-") {
    let text = "";
    for await (const chunk of ctx.io.stdin) text += chunk.toString();
    return text;
  }
  try {
    return readFileSync(path.resolve(ctx.io.cwd, file), "utf8");
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * `wyolo submit config.yaml`: the file goes to the server as it is (raw YAML, the old service's
 * config included); the server validates it, and a `sweeper.tune: true` config becomes a sweep.
 */
export async function submit(ctx: Ctx, file: string, opts: SubmitOptions): Promise<number> {
  const priority = (opts.priority ?? "normal").toLowerCase();
  if (!(PRIORITIES as readonly string[]).includes(priority)) throw usage(`--priority must be one of ${PRIORITIES.join(", ")}`);
  const text = await readConfigText(ctx, file);
  if (!text.trim()) throw usage(`${file} is empty`);
  const { api, token } = ctx.api();
  const { project, team } = await resolveProject(api, opts.project ?? ctx.settings.project);
  const created = await api.request<Submitted>("POST", `/projects/${project.id}/jobs`, {
    body: text,
    contentType: "application/yaml",
    query: { name: opts.name, priority },
  });
  const kind = created.kind === "sweep" ? "sweeps" : "jobs";
  const target = created.kind === "sweep" ? created.sweep : created.job;
  const url = pageUrl(api.url, team.slug, project.slug, kind, target.id);
  // Warnings (ignored legacy blocks, defaults applied) go to stderr: stdout stays the result.
  for (const w of created.warnings ?? []) print(ctx.io.stderr, `warning: ${w}`);
  if (ctx.json && !opts.follow) printJson(ctx.io.stdout, { ...created, url });
  else if (ctx.json) print(ctx.io.stdout, JSON.stringify({ type: "submitted", ...created, url }));
  else if (created.kind === "sweep")
    print(ctx.io.stdout, `Sweep ${created.sweep.id} (${created.sweep.name}, ${created.sweep.nTrials} trials) submitted: ${url}`);
  else print(ctx.io.stdout, `Job ${created.job.id} (${created.job.name}) submitted: ${url}`);
  if (!opts.follow) return EXIT.OK;
  if (created.kind === "sweep") return outcomeExitCode((await followSweep(ctx, created.sweep.id)).status);
  const job = await followJob({ api, io: ctx.io, token, jobId: created.job.id, json: ctx.json, logs: false, signal: ctx.signal });
  return outcomeExitCode(job.status);
}

export type TrainOptions = SubmitOptions & { config_path?: string; trial_number?: string; fitness?: string };

/**
 * The old service's `wyolo-train --config_path=config.yaml --trial_number=1 --fitness=fitness`:
 * submits and follows. The two sweep flags have no meaning for one job; they are accepted and
 * explained, never silently dropped.
 */
export async function train(ctx: Ctx, opts: TrainOptions): Promise<number> {
  if (!opts.config_path) throw usage("wyolo train needs --config_path=config.yaml");
  for (const note of trainNotes(opts)) print(ctx.io.stderr, `note: ${note}`);
  return submit(ctx, opts.config_path, { ...opts, follow: opts.follow ?? true });
}

export function trainNotes(opts: Pick<TrainOptions, "trial_number" | "fitness">): string[] {
  const notes: string[] = [];
  if (opts.trial_number !== undefined)
    notes.push(
      `--trial_number=${opts.trial_number} is not needed: this submits one job; in a sweep (sweeper.tune: true) Wyolo numbers the trials itself (Optuna's trial number)`,
    );
  if (opts.fitness !== undefined)
    notes.push(
      opts.fitness === "fitness"
        ? "--fitness=fitness is the default: every epoch records Ultralytics' fitness, and a sweep optimises it unless sweeper.objective says otherwise"
        : `--fitness=${opts.fitness} is not read here: for a sweep, set sweeper.objective: "${opts.fitness}" in the config`,
    );
  return notes;
}
