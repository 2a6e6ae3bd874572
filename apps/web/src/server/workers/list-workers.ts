import "server-only";
import { isWorkerOnline, parseWorkerReport, workersKey, type WorkerReport } from "@wyolo/contracts";
import { env } from "@/env";
import { db } from "../db";
import { visibleTeamsWhere } from "../access";
import { redis } from "../redis";
import { withTimeout } from "../timeout";
import type { SessionUser } from "../auth/session";

const FORGET_AFTER_MS = 7 * 86_400_000;

export type JobRef = { id: string; name: string; status: string; href: string } | { id: null; name: null };

/**
 * Every worker that reported in the last week, online or not, with its GPUs. Jobs on them are
 * named only for readers of their project; others show as another team's job.
 */
export async function listWorkers(user: SessionUser, now = Date.now()) {
  const key = workersKey(env.TRAINING_QUEUE);
  const raw = await withTimeout(redis.hgetall(key), 3_000, "worker list");
  const reports: WorkerReport[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const r = parseWorkerReport(value);
    if (!r || now - Date.parse(r.lastSeen) > FORGET_AFTER_MS) await redis.hdel(key, name);
    else reports.push(r);
  }
  const jobIds = [
    ...new Set(reports.flatMap((r) => [...r.runningJobIds, ...r.gpus.map((g) => g.jobId)]).filter((id): id is string => !!id)),
  ];
  const visible = new Map<string, JobRef>();
  if (jobIds.length) {
    const jobs = await db.trainingJob.findMany({
      where: { id: { in: jobIds }, project: { team: visibleTeamsWhere(user) } },
      select: { id: true, name: true, status: true, project: { select: { slug: true, team: { select: { slug: true } } } } },
    });
    for (const j of jobs)
      visible.set(j.id, { id: j.id, name: j.name, status: j.status, href: `/t/${j.project.team.slug}/p/${j.project.slug}/jobs/${j.id}` });
  }
  const ref = (id: string | null): JobRef | null => (id ? (visible.get(id) ?? { id: null, name: null }) : null);
  return reports
    .map((r) => ({
      name: r.name,
      host: r.host,
      startedAt: r.startedAt,
      lastSeen: r.lastSeen,
      online: isWorkerOnline(r, now),
      draining: r.draining,
      concurrency: r.concurrency,
      trainer: { ok: r.trainer.ok, problem: r.trainer.problem, versions: pickVersions(r.trainer.details) },
      exportFormats: r.exportFormats ?? [],
      gpus: r.gpus.map(({ jobId, ...g }) => ({ ...g, job: ref(jobId) })),
      running: r.runningJobIds.map((id) => ref(id)!),
    }))
    .sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
}

function pickVersions(details: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["python", "torch", "ultralytics", "cuda", "trainer"]) if (details[key] !== undefined) out[key] = String(details[key]);
  return out;
}
