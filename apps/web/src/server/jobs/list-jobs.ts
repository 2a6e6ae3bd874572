import "server-only";
import type { z } from "zod";
import type { listJobsQuerySchema } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";
import { projectAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { jobSummarySelect, toJobSummary } from "./job-summary";

const ORDER: Record<z.infer<typeof listJobsQuerySchema>["sort"], Prisma.TrainingJobOrderByWithRelationInput[]> = {
  created_desc: [{ createdAt: "desc" }, { id: "desc" }],
  created_asc: [{ createdAt: "asc" }, { id: "asc" }],
  name_asc: [{ name: "asc" }, { id: "asc" }],
  name_desc: [{ name: "desc" }, { id: "desc" }],
  status: [{ status: "asc" }, { createdAt: "desc" }, { id: "desc" }],
};

/** Keyset pagination: `cursor` is the id of the last row of the previous page. */
export async function listJobs(user: SessionUser, projectId: string, query: z.infer<typeof listJobsQuerySchema>) {
  const { project } = await projectAccess(user, { id: projectId }, "job.read");
  const rows = await db.trainingJob.findMany({
    where: {
      projectId: project.id,
      ...(query.status ? { status: { in: query.status } } : {}),
      ...(query.creatorId ? { createdById: query.creatorId } : {}),
    },
    orderBy: ORDER[query.sort],
    take: query.limit + 1,
    ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    select: jobSummarySelect,
  });
  const page = rows.slice(0, query.limit);
  return { jobs: page.map(toJobSummary), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
}
