import "server-only";
import { datasetReportSchema, datasetStatsSchema, type DatasetVersionDetail } from "@wyolo/contracts";
import { db } from "../db";
import { allows } from "../access";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { toVersionSummary, versionSummarySelect } from "./dataset-summary";

const JOBS_SHOWN = 50;

/** A version with its report, statistics, file counts and the jobs that used it. */
export async function getVersion(user: SessionUser, versionId: string): Promise<DatasetVersionDetail> {
  const access = await versionAccess(user, versionId, "dataset.read");
  const [row, kinds, splits, jobs] = await Promise.all([
    db.datasetVersion.findUniqueOrThrow({
      where: { id: versionId },
      select: { ...versionSummarySelect, manifestHash: true, removedPaths: true, report: true, stats: true },
    }),
    db.datasetItem.groupBy({ by: ["kind"], where: { versionId }, _count: { _all: true } }),
    db.datasetItem.groupBy({ by: ["split"], where: { versionId, kind: "image" }, _count: { _all: true } }),
    db.trainingJob.findMany({
      where: { datasetVersionId: versionId },
      orderBy: { createdAt: "desc" },
      take: JOBS_SHOWN,
      select: { id: true, name: true, status: true, createdAt: true, project: { select: { id: true, slug: true, name: true } } },
    }),
  ]);
  const report = datasetReportSchema.safeParse(row.report);
  const stats = datasetStatsSchema.safeParse(row.stats);
  return {
    ...toVersionSummary(row),
    dataset: { id: access.dataset.id, name: access.dataset.name, teamId: access.team.id, teamSlug: access.team.slug },
    manifestHash: row.manifestHash,
    removedPaths: Array.isArray(row.removedPaths) ? row.removedPaths.map(String) : [],
    report: report.success ? report.data : null,
    stats: stats.success ? stats.data : null,
    counts: {
      byKind: Object.fromEntries(kinds.map((k) => [k.kind, k._count._all])),
      imagesPerSplit: Object.fromEntries(splits.map((s) => [s.split ?? "", s._count._all])),
    },
    jobs: jobs.map((j) => ({ ...j, createdAt: j.createdAt.toISOString() })),
    canUpload: allows(access, "dataset.upload"),
    canDelete: allows(access, "dataset.delete"),
  };
}
