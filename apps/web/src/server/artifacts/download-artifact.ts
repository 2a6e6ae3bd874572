import "server-only";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { env } from "@/env";
import { db } from "../db";
import { audit } from "../audit";
import { AppError, notFound } from "../errors";
import { jobAccess } from "../jobs/job-access";
import type { SessionUser } from "../auth/session";

let signer: S3Client | null = null;

/** Signs for the endpoint browsers reach (S3_PUBLIC_ENDPOINT), which may differ from the workers' one. */
export function publicSigner(): S3Client {
  const endpoint = env.S3_PUBLIC_ENDPOINT ?? env.S3_ENDPOINT;
  if (!endpoint) throw new AppError("SERVICE_UNAVAILABLE", "No object store is configured on this platform");
  signer ??= new S3Client({
    endpoint,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } }
      : {}),
  });
  return signer;
}

export async function listArtifacts(user: SessionUser, jobId: string) {
  await jobAccess(user, jobId, "job.read");
  const rows = await db.jobArtifact.findMany({
    where: { jobId },
    orderBy: { name: "asc" },
    select: { id: true, name: true, size: true, sha256: true, updatedAt: true },
  });
  return rows.map((r) => ({ ...r, size: Number(r.size), updatedAt: r.updatedAt.toISOString() }));
}

/** A short-lived link to one artifact, for readers of its project; each one is audited. */
export async function downloadArtifact(user: SessionUser, jobId: string, artifactId: string, ip: string): Promise<string> {
  const { team, project } = await jobAccess(user, jobId, "job.read");
  const artifact = await db.jobArtifact.findFirst({
    where: { id: artifactId, jobId },
    select: { id: true, name: true, storageKey: true, job: { select: { name: true } } },
  });
  if (!artifact) throw notFound("Artifact not found");
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, "-")
      .replace(/^-|-$/g, "");
  const filename = `${project.slug}-${slug(artifact.job.name)}-${artifact.name.split("/").pop()}`;
  const url = await getSignedUrl(
    publicSigner(),
    new GetObjectCommand({
      Bucket: env.S3_BUCKET,
      Key: artifact.storageKey,
      ResponseContentDisposition: `attachment; filename="${filename}"`,
    }),
    { expiresIn: env.DOWNLOAD_URL_TTL_SECONDS },
  );
  await audit(db, {
    actorId: user.id,
    action: "artifact.download",
    targetType: "artifact",
    targetId: artifact.id,
    teamId: team.id,
    ip,
    metadata: { jobId, name: artifact.name },
  });
  return url;
}
