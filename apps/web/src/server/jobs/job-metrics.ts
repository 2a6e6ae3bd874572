import "server-only";
import type { JobEpochRow, JobLogLine } from "@wyolo/contracts";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";

export async function jobMetrics(user: SessionUser, jobId: string): Promise<JobEpochRow[]> {
  await jobAccess(user, jobId, "job.read");
  const rows = await db.jobEpoch.findMany({
    where: { jobId },
    orderBy: { epoch: "asc" },
    select: { epoch: true, losses: true, metrics: true, lr: true, epochTime: true },
  });
  return rows as JobEpochRow[];
}

export async function jobLogs(
  user: SessionUser,
  jobId: string,
  after: number,
  limit: number,
): Promise<{ lines: JobLogLine[]; next: number }> {
  await jobAccess(user, jobId, "job.read");
  const rows = await db.jobLog.findMany({
    where: { jobId, seq: { gt: after } },
    orderBy: { seq: "asc" },
    take: limit,
    select: { seq: true, stream: true, line: true, at: true },
  });
  const lines = rows.map((r) => ({ ...r, stream: r.stream as JobLogLine["stream"], at: r.at.toISOString() }));
  return { lines, next: lines.length ? lines[lines.length - 1]!.seq : after };
}
