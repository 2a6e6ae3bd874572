import "server-only";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { env } from "@/env";
import { db } from "../db";
import { publicSigner } from "../artifacts/download-artifact";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";

/** Plot links last at most 5 minutes (less when downloads are set shorter): the page asks again for fresh ones. */
export const PLOT_URL_TTL_SECONDS = 300;
/** A run writes ~16 plots; a cap keeps one answer bounded whatever a custom trainer uploaded. */
export const MAX_PLOTS = 200;

const IMAGE = /\.(png|jpe?g)$/i;

export type PlotKind = "matrix" | "curve" | "results" | "labels" | "batch" | "other";

/** Where a plot sits in the gallery: the confusion matrices and curves first, sample batches last. */
export function plotKind(name: string): PlotKind {
  const file = name.split("/").pop()!.toLowerCase();
  if (file.startsWith("confusion_matrix")) return "matrix";
  if (/_curve\.(png|jpe?g)$/.test(file)) return "curve";
  if (file.startsWith("results")) return "results";
  if (file.startsWith("labels")) return "labels";
  if (/^(train|val)_batch/.test(file)) return "batch";
  return "other";
}
const ORDER: PlotKind[] = ["matrix", "curve", "results", "labels", "other", "batch"];

/**
 * The job's image artifacts (confusion matrix, PR/F1/P/R curves, labels, val_batch*_pred…) with presigned
 * GET links for inline viewing. Not audited, unlike downloads: viewing a plot is reading the job page
 * (job.read, which is not audited either), and the page asks for these links on every visit; the links
 * serve the image inline and expire within PLOT_URL_TTL_SECONDS.
 */
export async function listPlots(user: SessionUser, jobId: string) {
  await jobAccess(user, jobId, "job.read");
  const rows = await db.jobArtifact.findMany({
    where: { jobId, OR: [".png", ".jpg", ".jpeg"].map((ext) => ({ name: { endsWith: ext, mode: "insensitive" as const } })) },
    select: { id: true, name: true, size: true, storageKey: true, updatedAt: true },
    orderBy: { name: "asc" },
    // Sorted by kind below and cut after: a run with many sample images keeps its confusion matrix and curves.
    take: MAX_PLOTS * 20,
  });
  const plots = rows
    .filter((r) => IMAGE.test(r.name))
    .map((r) => ({ ...r, kind: plotKind(r.name) }))
    .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || a.name.localeCompare(b.name, "en", { numeric: true }))
    .slice(0, MAX_PLOTS);
  if (plots.length === 0) return { plots: [], expiresAt: null };
  const ttl = Math.min(PLOT_URL_TTL_SECONDS, env.DOWNLOAD_URL_TTL_SECONDS);
  const signer = publicSigner();
  const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
  return {
    plots: await Promise.all(
      plots.map(async (p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        size: Number(p.size),
        updatedAt: p.updatedAt.toISOString(),
        url: await getSignedUrl(
          signer,
          new GetObjectCommand({
            Bucket: env.S3_BUCKET,
            Key: p.storageKey,
            ResponseContentType: /\.png$/i.test(p.name) ? "image/png" : "image/jpeg",
            ResponseContentDisposition: "inline",
          }),
          { expiresIn: ttl },
        ),
      })),
    ),
    expiresAt,
  };
}
