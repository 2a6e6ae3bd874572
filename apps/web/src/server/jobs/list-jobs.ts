import "server-only";
import type { z } from "zod";
import type { JobListPage, listJobsQuerySchema } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";
import { projectAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { jobSummarySelect, toJobSummary } from "./job-summary";

type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

const ORDER: Record<ListJobsQuery["sort"], Prisma.TrainingJobOrderByWithRelationInput[]> = {
  created_desc: [{ createdAt: "desc" }, { id: "desc" }],
  created_asc: [{ createdAt: "asc" }, { id: "asc" }],
  name_asc: [{ name: "asc" }, { id: "asc" }],
  name_desc: [{ name: "desc" }, { id: "desc" }],
  status: [{ status: "asc" }, { createdAt: "desc" }, { id: "desc" }],
};

const TRIALS: Record<ListJobsQuery["trials"], Prisma.TrainingJobWhereInput> = {
  include: {},
  exclude: { sweepId: null },
  only: { sweepId: { not: null } },
};

/** Keyset pagination: `cursor` is the id of the last row of the previous page. */
export async function listJobs(user: SessionUser, projectId: string, query: ListJobsQuery): Promise<JobListPage> {
  const { project } = await projectAccess(user, { id: projectId }, "job.read");
  const filters: Prisma.TrainingJobWhereInput = {
    projectId: project.id,
    ...(query.status ? { status: { in: query.status } } : {}),
    ...(query.creatorId ? { createdById: query.creatorId } : {}),
  };
  const [rows, trialCount] = await Promise.all([
    db.trainingJob.findMany({
      where: { AND: [filters, TRIALS[query.trials], query.sweepId ? { sweepId: query.sweepId } : {}] },
      orderBy: ORDER[query.sort],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
      select: jobSummarySelect,
    }),
    // Counted once per listing, on its first page: later pages only append rows.
    query.cursor ? null : db.trainingJob.count({ where: { ...filters, sweepId: query.sweepId ?? { not: null } } }),
  ]);
  const page = rows.slice(0, query.limit);
  return { jobs: page.map(toJobSummary), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null, trialCount };
}
