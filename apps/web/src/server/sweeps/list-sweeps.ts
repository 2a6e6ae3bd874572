import "server-only";
import { z } from "zod";
import { listJobsQuerySchema, SWEEP_STATUSES } from "@wyolo/contracts";
import { db } from "../db";
import { projectAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { sweepSummarySelect, toSweepSummary, trialCounts } from "./sweep-summary";

export const listSweepsQuerySchema = listJobsQuerySchema.pick({ cursor: true, limit: true }).extend({
  status: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(",") : undefined))
    .pipe(z.array(z.enum(SWEEP_STATUSES)).optional()),
});

/** A project's sweeps, newest first, with their trial counts; keyset pagination (`cursor` = last id of the previous page). */
export async function listSweeps(user: SessionUser, projectId: string, query: z.infer<typeof listSweepsQuerySchema>) {
  const { project } = await projectAccess(user, { id: projectId }, "job.read");
  const rows = await db.sweep.findMany({
    where: { projectId: project.id, ...(query.status ? { status: { in: query.status } } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
    ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    select: sweepSummarySelect,
  });
  const page = rows.slice(0, query.limit);
  const counts = await trialCounts(page.map((r) => r.id));
  return {
    sweeps: page.map((r) => toSweepSummary(r, counts.get(r.id))),
    nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null,
  };
}
