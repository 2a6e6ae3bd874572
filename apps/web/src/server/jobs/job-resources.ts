import "server-only";
import type { ResourceSample } from "@wyolo/contracts";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";

/** A job's resource series, oldest first; the worker keeps it bounded (resource-sampler.ts), so all of it. */
export async function jobResources(user: SessionUser, jobId: string): Promise<ResourceSample[]> {
  await jobAccess(user, jobId, "job.read");
  const rows = await db.jobResourceSample.findMany({
    where: { jobId },
    orderBy: { at: "asc" },
    select: {
      at: true,
      spanSeconds: true,
      cpuPercent: true,
      rssBytes: true,
      hostCpuPercent: true,
      gpuUtil: true,
      gpuMemUsedMb: true,
      gpus: true,
    },
  });
  return rows.map((r) => ({
    ...r,
    at: r.at.toISOString(),
    rssBytes: r.rssBytes === null ? null : Number(r.rssBytes),
    gpus: (r.gpus ?? null) as ResourceSample["gpus"],
  }));
}
