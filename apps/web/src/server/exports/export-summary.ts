import "server-only";
import type { ExportFormat, ExportOptions, ExportSummary, JobStatus } from "@wyolo/contracts";

export const exportSelect = {
  id: true,
  jobId: true,
  format: true,
  options: true,
  status: true,
  workerName: true,
  failureReason: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  createdBy: { select: { id: true, name: true } },
  artifact: { select: { id: true, name: true, size: true, sha256: true } },
  job: { select: { projectId: true } },
} as const;

type Row = {
  id: string;
  jobId: string;
  format: string;
  options: unknown;
  status: JobStatus;
  workerName: string | null;
  failureReason: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdBy: { id: string; name: string };
  artifact: { id: string; name: string; size: bigint; sha256: string } | null;
  job: { projectId: string };
};

export function toExportSummary(r: Row): ExportSummary {
  return {
    id: r.id,
    jobId: r.jobId,
    projectId: r.job.projectId,
    format: r.format as ExportFormat,
    options: r.options as ExportOptions,
    status: r.status,
    workerName: r.workerName,
    failureReason: r.failureReason,
    artifact: r.artifact ? { ...r.artifact, size: Number(r.artifact.size) } : null,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
