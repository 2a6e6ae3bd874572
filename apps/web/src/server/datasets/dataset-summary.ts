import "server-only";
import {
  datasetReportSchema,
  datasetVersionLabel,
  type DatasetSummary,
  type DatasetTask,
  type DatasetVersionSummary,
} from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";

export const versionSummarySelect = {
  id: true,
  datasetId: true,
  version: true,
  status: true,
  task: true,
  parent: { select: { version: true } },
  fileCount: true,
  totalBytes: true,
  uploadName: true,
  uploadSize: true,
  classNames: true,
  report: true,
  failureReason: true,
  archivedAt: true,
  createdAt: true,
  validatedAt: true,
  createdBy: { select: { id: true, name: true, email: true } },
  dataset: { select: { name: true } },
  _count: { select: { jobs: true } },
} as const satisfies Prisma.DatasetVersionSelect;

export type VersionSummaryRow = Prisma.DatasetVersionGetPayload<{ select: typeof versionSummarySelect }>;

const stringArray = (v: unknown): string[] | null => (Array.isArray(v) ? v.map(String) : null);

/** Error and warning totals from a stored report (counts hold every issue, also those past the cap). */
export function reportTotals(report: unknown): { errors: number | null; warnings: number | null } {
  const parsed = datasetReportSchema.safeParse(report);
  if (!parsed.success) return { errors: null, warnings: null };
  const severity = new Map(parsed.data.issues.map((i) => [i.code, i.severity]));
  let errors = parsed.data.fatal ? 1 : 0;
  let warnings = 0;
  for (const [code, n] of Object.entries(parsed.data.counts)) {
    if ((severity.get(code) ?? "error") === "error") errors += n;
    else warnings += n;
  }
  return { errors, warnings };
}

export function toVersionSummary(row: VersionSummaryRow): DatasetVersionSummary {
  const label = datasetVersionLabel(row.dataset.name, row.version);
  return {
    id: row.id,
    datasetId: row.datasetId,
    version: row.version,
    label,
    ref: `dataset:${label}`,
    status: row.status,
    task: (row.task as DatasetTask | null) ?? null,
    parentVersion: row.parent?.version ?? null,
    fileCount: row.fileCount,
    totalBytes: row.totalBytes === null ? null : Number(row.totalBytes),
    uploadName: row.uploadName,
    uploadSize: row.uploadSize === null ? null : Number(row.uploadSize),
    classNames: stringArray(row.classNames),
    ...reportTotals(row.report),
    failureReason: row.failureReason,
    archived: row.archivedAt !== null,
    jobCount: row._count.jobs,
    createdBy: row.createdBy ? { id: row.createdBy.id, name: row.createdBy.name, email: row.createdBy.email } : null,
    createdAt: row.createdAt.toISOString(),
    validatedAt: row.validatedAt?.toISOString() ?? null,
  };
}

export const datasetSummarySelect = {
  id: true,
  teamId: true,
  name: true,
  description: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { versions: true } },
  versions: {
    where: { status: "READY", archivedAt: null },
    orderBy: { version: "desc" },
    take: 1,
    select: versionSummarySelect,
  },
} as const satisfies Prisma.DatasetSelect;

export type DatasetSummaryRow = Prisma.DatasetGetPayload<{ select: typeof datasetSummarySelect }>;

export function toDatasetSummary(row: DatasetSummaryRow): DatasetSummary {
  return {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    description: row.description,
    versionCount: row._count.versions,
    latest: row.versions[0] ? toVersionSummary(row.versions[0]) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
