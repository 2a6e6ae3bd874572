import "server-only";
import { datasetVersionLabel, type DatasetTask, type TrainableVersion } from "@wyolo/contracts";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";

const MAX = 500;

/** The submit form's picker: the team's READY, unarchived versions, by dataset, newest first. */
export async function listTrainableVersions(user: SessionUser, teamId: string): Promise<TrainableVersion[]> {
  const { team } = await teamAccess(user, { id: teamId }, "dataset.read");
  const rows = await db.datasetVersion.findMany({
    where: { status: "READY", archivedAt: null, dataset: { teamId: team.id } },
    orderBy: [{ dataset: { name: "asc" } }, { version: "desc" }],
    take: MAX,
    select: {
      datasetId: true,
      version: true,
      task: true,
      classNames: true,
      fileCount: true,
      createdAt: true,
      dataset: { select: { name: true } },
    },
  });
  const seen = new Set<string>();
  return rows.map((r) => {
    const label = datasetVersionLabel(r.dataset.name, r.version);
    const latest = !seen.has(r.datasetId);
    seen.add(r.datasetId);
    return {
      datasetId: r.datasetId,
      name: r.dataset.name,
      version: r.version,
      ref: `dataset:${label}`,
      label,
      task: (r.task as DatasetTask | null) ?? null,
      classCount: Array.isArray(r.classNames) ? r.classNames.length : 0,
      fileCount: r.fileCount,
      latest,
      createdAt: r.createdAt.toISOString(),
    };
  });
}
