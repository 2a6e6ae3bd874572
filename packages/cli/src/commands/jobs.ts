import { pageUrl, type Ctx } from "../context.ts";
import { EXIT, outcomeExitCode, usage } from "../errors.ts";
import { followJob, summaryLine } from "../follow.ts";
import { duration, num, since, table } from "../format.ts";
import { print, printJson } from "../io.ts";
import { resolveProject } from "../project.ts";
import type { Job, JobDetail, LogLine } from "../types.ts";

const STATUSES = ["QUEUED", "STARTING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];

export type JobsLsOptions = { project?: string; status?: string; limit?: string; trials?: boolean };

export async function jobsLs(ctx: Ctx, opts: JobsLsOptions): Promise<number> {
  const status = opts.status
    ?.split(",")
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const bad = status?.filter((s) => !STATUSES.includes(s));
  if (bad?.length) throw usage(`--status: unknown ${bad.join(", ")} (one or more of ${STATUSES.join(", ")})`);
  const limit = opts.limit === undefined ? 25 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw usage("--limit must be a whole number from 1 to 100");
  const { api } = ctx.api();
  const { project, team } = await resolveProject(api, opts.project ?? ctx.settings.project);
  const page = await api.get<{ jobs: Job[]; nextCursor: string | null }>(`/projects/${project.id}/jobs`, {
    limit,
    status: status?.join(","),
    trials: opts.trials ? "include" : "exclude",
  });
  if (ctx.json) {
    printJson(ctx.io.stdout, { project: { id: project.id, slug: `${team.slug}/${project.slug}` }, ...page });
    return EXIT.OK;
  }
  if (!page.jobs.length) {
    print(ctx.io.stdout, `No jobs in ${team.slug}/${project.slug}${status ? ` with status ${status.join(", ")}` : ""}`);
    return EXIT.OK;
  }
  const rows = page.jobs.map((j) => [
    j.id,
    j.name.length > 40 ? `${j.name.slice(0, 39)}…` : j.name,
    j.status,
    `${j.currentEpoch ?? 0}/${j.totalEpochs}`,
    j.bestMetric == null ? "-" : `${num(j.bestMetric)} ${(j.bestMetricName ?? "").replace(/^metrics\//, "")}`,
    since(j.createdAt),
  ]);
  print(ctx.io.stdout, table(["ID", "NAME", "STATUS", "EPOCH", "BEST", "CREATED"], rows));
  if (page.nextCursor) print(ctx.io.stderr, `(more: --limit up to 100, or the dashboard)`);
  return EXIT.OK;
}

export async function jobsShow(ctx: Ctx, jobId: string): Promise<number> {
  const { api } = ctx.api();
  const detail = await api.get<JobDetail>(`/jobs/${encodeURIComponent(jobId)}`);
  if (ctx.json) {
    printJson(ctx.io.stdout, detail);
    return EXIT.OK;
  }
  const { job, team, project } = detail;
  const lines = [
    summaryLine(job),
    `id        ${job.id}`,
    `project   ${team.slug}/${project.slug}`,
    `model     ${job.model} (${job.task})`,
    `priority  ${job.priority}`,
    `created   ${job.createdAt} (${since(job.createdAt)})`,
    ...(job.startedAt ? [`started   ${job.startedAt}`] : []),
    ...(job.finishedAt ? [`finished  ${job.finishedAt}`] : []),
    ...(job.status === "RUNNING" && job.etaSeconds != null ? [`eta       ${duration(job.etaSeconds)}`] : []),
    ...(job.failureReason ? [`failure   ${job.failureClass ?? ""} ${job.failureReason}`.replace(/ +/, " ")] : []),
    `page      ${pageUrl(api.url, team.slug, project.slug, "jobs", job.id)}`,
  ];
  print(ctx.io.stdout, lines.join("\n"));
  return EXIT.OK;
}

export async function cancel(ctx: Ctx, jobId: string): Promise<number> {
  const { api } = ctx.api();
  const { job } = await api.post<{ job: Job }>(`/jobs/${encodeURIComponent(jobId)}/cancel`);
  if (ctx.json) printJson(ctx.io.stdout, { job });
  else print(ctx.io.stdout, `${job.name}: ${job.status === "CANCELLED" ? "cancelled" : `cancel requested (${job.status})`}`);
  return EXIT.OK;
}

/** `wyolo logs JOB`: the job's log so far; `-f` then follows it live and exits with the job's outcome. */
export async function logs(ctx: Ctx, jobId: string, opts: { follow?: boolean }): Promise<number> {
  const { api, token } = ctx.api();
  if (opts.follow) {
    const job = await followJob({ api, io: ctx.io, token, jobId, json: ctx.json, logs: true, signal: ctx.signal });
    return outcomeExitCode(job.status);
  }
  for (let after = 0; ; ) {
    const page = await api.get<{ lines: LogLine[]; next: number }>(`/jobs/${encodeURIComponent(jobId)}/logs`, { after, limit: 5000 });
    if (ctx.json) for (const l of page.lines) print(ctx.io.stdout, JSON.stringify(l));
    else for (const l of page.lines) print(ctx.io.stdout, l.line);
    if (page.lines.length < 5000) break;
    after = page.next;
  }
  return EXIT.OK;
}
