import "server-only";
import { can, EXPORT_FORMAT_INFO, exportNeedsGpu, exportOptionsSchema, exportVariant, type ExportSummary } from "@wyolo/contracts";
import { newId, writeTimelineEntry } from "@wyolo/db";
import { db } from "../db";
import { audit } from "../audit";
import { AppError, validationError } from "../errors";
import { logger } from "../logger";
import { emitExportUpdated, emitJobEvent } from "../realtime/emitter";
import { jobAccess } from "../jobs/job-access";
import { enqueueExport } from "../jobs/enqueue";
import type { SessionUser } from "../auth/session";
import { exportCapabilities } from "./export-formats";
import { exportSelect, toExportSummary } from "./export-summary";

/**
 * Asks for an export of a succeeded job's best.pt. The same format and options asked again
 * while one is queued, running or done answer that export (`created: false`) instead of a second.
 * Like jobs: the row first, then the queue entry; if Redis refuses it the row goes again (503).
 */
export async function createExport(
  user: SessionUser,
  jobId: string,
  input: unknown,
  ip: string,
): Promise<{ export: ExportSummary; created: boolean }> {
  const { job, team } = await jobAccess(user, jobId, "export.create");
  const parsed = exportOptionsSchema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, "The export options are invalid");
  const options = parsed.data;
  const label = EXPORT_FORMAT_INFO[options.format].label;
  if (job.status !== "SUCCEEDED") throw new AppError("CONFLICT", "Only a job that finished successfully can be exported");
  const best = await db.jobArtifact.findUnique({ where: { jobId_name: { jobId, name: "weights/best.pt" } }, select: { id: true } });
  if (!best) throw new AppError("CONFLICT", "This job has no best.pt in the object store to export");
  const { formats, onGpu } = await exportCapabilities();
  if (!formats.includes(options.format)) {
    throw new AppError("VALIDATION_FAILED", `No online worker can export to ${label}`, {
      format: [
        formats.length
          ? `No online worker can export to ${label}; available: ${formats.join(", ")}`
          : "No worker that can export models is online",
      ],
    });
  }
  if (exportNeedsGpu(options) && !onGpu.includes(options.format)) {
    const field = EXPORT_FORMAT_INFO[options.format].gpu ? "format" : "half";
    throw new AppError("VALIDATION_FAILED", `No online worker with a GPU can export to ${label}`, {
      [field]: [
        field === "half"
          ? `FP16 ${label} needs a GPU worker, and none that exports ${label} is online; export without FP16`
          : `${label} needs a GPU worker, and none is online`,
      ],
    });
  }
  const variant = exportVariant(options);
  const existing = await db.modelExport.findFirst({
    where: { jobId, variant, status: { in: ["QUEUED", "STARTING", "RUNNING", "SUCCEEDED"] } },
    orderBy: { createdAt: "desc" },
    select: exportSelect,
  });
  if (existing && (existing.status !== "SUCCEEDED" || existing.artifact)) return { export: toExportSummary(existing), created: false };

  const id = newId();
  // The row, its timeline entry and the audit entry before the queue entry: a worker may end
  // the export before this request returns, and its entries must come after "queued".
  const { row, event } = await db.$transaction(async (tx) => {
    const created = await tx.modelExport.create({
      data: { id, jobId, format: options.format, options, variant, createdById: user.id },
      select: exportSelect,
    });
    await audit(tx, {
      actorId: user.id,
      action: "export.create",
      targetType: "export",
      targetId: id,
      teamId: team.id,
      ip,
      metadata: { jobId, format: options.format, variant },
    });
    const e = await writeTimelineEntry(tx, jobId, {
      kind: "export-queued",
      message: `Export to ${label} (${variant}) queued by ${user.name}`,
    });
    return { row: created, event: e };
  });
  try {
    await enqueueExport(id);
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, exportId: id }, "enqueue failed; export row removed");
    await db
      .$transaction([
        db.modelExport.deleteMany({ where: { id } }),
        db.jobEvent.deleteMany({ where: { id: event.id } }),
        db.auditLog.deleteMany({ where: { targetId: id, action: "export.create" } }),
      ])
      .catch((e: Error) => logger.error({ err: { message: e.message }, exportId: id }, "could not remove unqueued export row"));
    throw new AppError("SERVICE_UNAVAILABLE", "The job queue (Redis) is unavailable, so the export was not created. Try again shortly.");
  }
  emitJobEvent(jobId, event);
  const summary = toExportSummary(row);
  emitExportUpdated(summary);
  return { export: summary, created: true };
}

export async function listExports(user: SessionUser, jobId: string) {
  const { role } = await jobAccess(user, jobId, "job.read");
  const rows = await db.modelExport.findMany({ where: { jobId }, orderBy: { createdAt: "desc" }, take: 100, select: exportSelect });
  // Formats are offered only to those who may export; a Redis hiccup must not hide the list.
  const { formats } = await exportCapabilities().catch((err: Error) => {
    logger.warn({ err: { message: err.message } }, "export formats unavailable");
    return { formats: [] };
  });
  return { exports: rows.map(toExportSummary), availableFormats: formats, canExport: can(role, "export.create") };
}
