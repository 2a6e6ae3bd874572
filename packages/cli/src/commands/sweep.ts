import { pageUrl, type Ctx } from "../context.ts";
import { CliError, EXIT, outcomeExitCode } from "../errors.ts";
import { num, since, table } from "../format.ts";
import { print, printJson, printJsonLine } from "../io.ts";
import { resolveProject } from "../project.ts";
import { SWEEP_TERMINAL, type Sweep, type SweepTrial } from "../types.ts";

type SweepDetail = Sweep & { trials: SweepTrial[] };

const counts = (s: Sweep) =>
  Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.toLowerCase()}`)
    .join(", ") || "no trials yet";

export async function sweepLs(ctx: Ctx, opts: { project?: string; limit?: string }): Promise<number> {
  const { api } = ctx.api();
  const { project, team } = await resolveProject(api, opts.project ?? ctx.settings.project);
  const page = await api.get<{ sweeps: Sweep[]; nextCursor: string | null }>(`/projects/${project.id}/sweeps`, { limit: opts.limit ?? 25 });
  if (ctx.json) printJson(ctx.io.stdout, page);
  else if (!page.sweeps.length) print(ctx.io.stdout, `No sweeps in ${team.slug}/${project.slug}`);
  else
    print(
      ctx.io.stdout,
      table(
        ["ID", "NAME", "STATUS", "TRIALS", "BEST", "CREATED"],
        page.sweeps.map((s) => [s.id, s.name, s.status, `${counts(s)} of ${s.nTrials}`, num(s.bestValue), since(s.createdAt)]),
      ),
    );
  return EXIT.OK;
}

function sweepText(ctx: Ctx, s: SweepDetail, url: string) {
  const head = [
    `${s.name}: ${s.status}${s.failureReason ? ` (${s.failureReason})` : ""}`,
    `id         ${s.id}`,
    `objective  ${s.direction} ${s.objective}`,
    `trials     ${counts(s)} of ${s.nTrials}, ${s.parallel} at a time`,
    `best       ${s.bestTrialNumber == null ? "-" : `trial ${s.bestTrialNumber}: ${num(s.bestValue)} (job ${s.bestJobId})`}`,
    `page       ${url}`,
  ];
  print(ctx.io.stdout, head.join("\n"));
  if (s.trials.length)
    print(
      ctx.io.stdout,
      `\n${table(
        ["TRIAL", "JOB", "STATUS", "VALUE", "PARAMS"],
        s.trials.map((t) => [
          t.number,
          t.jobId,
          t.state ?? t.jobStatus,
          t.prunedAtEpoch != null ? `pruned @${t.prunedAtEpoch}` : num(t.value),
          Object.entries(t.params)
            .map(([k, v]) => `${k}=${typeof v === "number" ? Number(v.toPrecision(4)) : String(v)}`)
            .join(" "),
        ]),
      )}`,
    );
}

export async function sweepShow(ctx: Ctx, sweepId: string, opts: { follow?: boolean }): Promise<number> {
  if (opts.follow) return outcomeExitCode((await followSweep(ctx, sweepId)).status);
  const { api } = ctx.api();
  const s = await api.get<SweepDetail>(`/sweeps/${encodeURIComponent(sweepId)}`);
  if (ctx.json) printJson(ctx.io.stdout, s);
  else sweepText(ctx, s, await sweepUrl(ctx, s));
  return EXIT.OK;
}

async function sweepUrl(ctx: Ctx, s: Sweep): Promise<string> {
  const { api } = ctx.api();
  const { project } = await api.get<{ project: { slug: string; team: { slug: string } } }>(`/projects/${s.projectId}`);
  return pageUrl(api.url, project.team.slug, project.slug, "sweeps", s.id);
}

export async function sweepCancel(ctx: Ctx, sweepId: string): Promise<number> {
  const { api } = ctx.api();
  const { sweep } = await api.post<{ sweep: Sweep }>(`/sweeps/${encodeURIComponent(sweepId)}/cancel`);
  if (ctx.json) printJson(ctx.io.stdout, { sweep });
  else print(ctx.io.stdout, `${sweep.name}: ${sweep.status === "CANCELLED" ? "cancelled" : `cancel requested (${sweep.status})`}`);
  return EXIT.OK;
}

/** Follows a sweep to its end (every 2 s from the API): a line per trial that changes, the best so far, and the end. */
export async function followSweep(ctx: Ctx, sweepId: string): Promise<Sweep> {
  const { api } = ctx.api();
  const seen = new Map<number, string>();
  let lastStatus = "";
  for (;;) {
    if (ctx.signal.aborted)
      throw new CliError(`Stopped following; sweep ${sweepId} keeps running (wyolo sweep cancel ${sweepId} stops it)`, EXIT.INTERRUPTED);
    const s = await api.get<SweepDetail>(`/sweeps/${encodeURIComponent(sweepId)}`);
    if (s.status !== lastStatus) {
      lastStatus = s.status;
      if (ctx.json) printJsonLine(ctx.io.stdout, { type: "status", sweepId, status: s.status });
      else print(ctx.io.stderr, `${s.name}: ${s.status}`);
    }
    for (const t of s.trials) {
      const state = `${t.jobStatus}/${t.state ?? ""}/${t.value ?? ""}`;
      if (seen.get(t.number) === state) continue;
      seen.set(t.number, state);
      if (ctx.json) printJsonLine(ctx.io.stdout, { type: "trial", sweepId, trial: t });
      else
        print(
          ctx.io.stdout,
          `trial ${t.number}  ${t.state ?? t.jobStatus}${t.value != null ? `  ${s.objective} ${num(t.value)}` : ""}${t.prunedAtEpoch != null ? `  (pruned at epoch ${t.prunedAtEpoch})` : ""}`,
        );
    }
    if (SWEEP_TERMINAL.includes(s.status)) {
      const { trials: _trials, ...summary } = s;
      if (ctx.json) printJsonLine(ctx.io.stdout, { type: "end", sweep: summary });
      else
        print(
          ctx.io.stdout,
          `${s.name}: ${s.status} · ${counts(s)}${s.bestTrialNumber != null ? ` · best trial ${s.bestTrialNumber}: ${num(s.bestValue)} (job ${s.bestJobId})` : ""}`,
        );
      return s;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
