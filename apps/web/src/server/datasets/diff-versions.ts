import "server-only";
import {
  DATASET_DIFF_MAX_PATHS,
  datasetStatsSchema,
  datasetVersionLabel,
  type DatasetDiffAnswer,
  type DatasetStats,
} from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";

type Change = "added" | "removed" | "changed" | "unchanged";

/** Per class (matched by name, as ids may move between versions): instances in each. */
function classDelta(from: DatasetStats | null, to: DatasetStats | null) {
  const rows = new Map<string, { id: number; name: string; from: number; to: number }>();
  for (const c of to?.instancesPerClass ?? []) rows.set(c.name, { id: c.id, name: c.name, from: 0, to: c.count });
  for (const c of from?.instancesPerClass ?? []) {
    const row = rows.get(c.name) ?? { id: c.id, name: c.name, from: 0, to: 0 };
    row.from = c.count;
    rows.set(c.name, row);
  }
  return [...rows.values()].sort((a, b) => a.id - b.id).map((r) => ({ ...r, delta: r.to - r.from }));
}

function splitDelta(from: DatasetStats | null, to: DatasetStats | null) {
  const splits = new Set([...Object.keys(from?.imagesPerSplit ?? {}), ...Object.keys(to?.imagesPerSplit ?? {})]);
  return [...splits].sort().map((split) => ({ split, from: from?.imagesPerSplit[split] ?? 0, to: to?.imagesPerSplit[split] ?? 0 }));
}

/** What changed from version `against` to this one: files by content hash (in SQL, lists capped) and counts per class and split. */
export async function diffVersions(user: SessionUser, versionId: string, against: number): Promise<DatasetDiffAnswer> {
  const { dataset, version } = await versionAccess(user, versionId, "dataset.read");
  const other = await db.datasetVersion.findUnique({
    where: { datasetId_version: { datasetId: dataset.id, version: against } },
    select: { id: true, version: true, stats: true },
  });
  if (!other)
    throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { against: [`${dataset.name} has no version ${against}`] });
  const rows = await db.$queryRaw<{ change: Change; path: string; n: bigint }[]>`
    WITH f AS (SELECT "path", "sha256" FROM "DatasetItem" WHERE "versionId" = ${other.id}),
         t AS (SELECT "path", "sha256" FROM "DatasetItem" WHERE "versionId" = ${versionId}),
         d AS (
           SELECT COALESCE(t."path", f."path") AS "path",
                  CASE WHEN f."path" IS NULL THEN 'added' WHEN t."path" IS NULL THEN 'removed'
                       WHEN f."sha256" <> t."sha256" THEN 'changed' ELSE 'unchanged' END AS "change"
           FROM f FULL OUTER JOIN t ON f."path" = t."path"),
         r AS (SELECT "change", "path", COUNT(*) OVER (PARTITION BY "change") AS "n",
                      ROW_NUMBER() OVER (PARTITION BY "change" ORDER BY "path") AS "rn" FROM d)
    SELECT "change", "path", "n" FROM r WHERE "rn" <= ${DATASET_DIFF_MAX_PATHS} AND ("change" <> 'unchanged' OR "rn" = 1)
    ORDER BY "change", "path"`;
  const counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  const lists: Record<Exclude<Change, "unchanged">, string[]> = { added: [], removed: [], changed: [] };
  for (const r of rows) {
    counts[r.change] = Number(r.n);
    if (r.change !== "unchanged") lists[r.change].push(r.path);
  }
  const mine = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId }, select: { stats: true } });
  const fromStats = datasetStatsSchema.safeParse(other.stats);
  const toStats = datasetStatsSchema.safeParse(mine.stats);
  const from = fromStats.success ? fromStats.data : null;
  const to = toStats.success ? toStats.data : null;
  return {
    from: { version: other.version, label: datasetVersionLabel(dataset.name, other.version) },
    to: { version: version.version, label: datasetVersionLabel(dataset.name, version.version) },
    files: {
      ...lists,
      counts,
      truncated:
        counts.added > DATASET_DIFF_MAX_PATHS || counts.removed > DATASET_DIFF_MAX_PATHS || counts.changed > DATASET_DIFF_MAX_PATHS,
    },
    classes: classDelta(from, to),
    imagesPerSplit: splitDelta(from, to),
  };
}
