import { createHash } from "node:crypto";
import { defaultModelName, type ModelLineage, type RegistryCallPayload } from "@wyolo/contracts";
import type { Prisma, TrainingJob } from "./generated/prisma/client.ts";
import { newId, type DbTx } from "./index.ts";
import { recordWebhookEvent } from "./webhook-outbox.ts";

/**
 * The model registry's writes that must share a transaction with something else: a succeeded
 * job's new version (in its SUCCEEDED transition, lifecycle.ts) and the outbox rows MLflow
 * mirrors (`RegistryCall`, sent in id order per model by the workers, apps/worker/src/registry).
 * The rows are written whether or not MLflow is configured: a worker with MLFLOW_TRACKING_URI
 * sends them, so a registry that existed before MLflow was set up is mirrored once it is.
 */

export const BEST_WEIGHTS = "weights/best.pt";

/** JSON with object keys sorted at every level: the same config always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

/** sha256 of the canonical resolved config: two versions trained with the same arguments share it. */
export const configHash = (config: unknown) => createHash("sha256").update(canonicalJson(config)).digest("hex");

export function queueRegistryCall(tx: DbTx, modelId: string, payload: RegistryCallPayload) {
  return tx.registryCall.create({ data: { modelId, kind: payload.kind, payload: payload as Prisma.InputJsonValue } });
}

/**
 * The project's registered model, created on first use, and locked (FOR UPDATE) until the
 * transaction ends so that concurrent registrations number their versions one after the other.
 */
export async function lockRegisteredModel(
  tx: DbTx,
  project: { id: string; slug: string; modelName: string | null; description: string; team: { slug: string } },
): Promise<{ id: string; name: string; created: boolean }> {
  const wanted = project.modelName ?? defaultModelName(project.team.slug, project.slug);
  // Names are unique: a name another project's model holds (a project renamed to an old slug, say) gets
  // the project's id as a suffix rather than failing the job's SUCCEEDED transition.
  const insert = (name: string) => tx.$queryRaw<{ id: string }[]>`
    INSERT INTO "RegisteredModel" ("id", "projectId", "name", "updatedAt")
    VALUES (${newId()}, ${project.id}, ${name}, now())
    ON CONFLICT DO NOTHING RETURNING "id"`;
  let inserted = await insert(wanted);
  if (!inserted.length) {
    const exists = await tx.registeredModel.findUnique({ where: { projectId: project.id }, select: { id: true } });
    if (!exists) inserted = await insert(`${wanted}-${project.id.slice(-8)}`.slice(0, 128));
  }
  const [row] = await tx.$queryRaw<{ id: string; name: string }[]>`
    SELECT "id", "name" FROM "RegisteredModel" WHERE "projectId" = ${project.id} FOR UPDATE`;
  if (!row) throw new Error(`registered model of project ${project.id} not found after its upsert`);
  if (inserted.length)
    await queueRegistryCall(tx, row.id, {
      kind: "create_model",
      description: project.description.slice(0, 500),
      tags: [{ key: "wyolo.project_id", value: project.id }],
    });
  return { ...row, created: inserted.length > 0 };
}

/**
 * A succeeded training becomes the next version of its project's model: when it is no sweep
 * trial, the project registers models, and its best.pt is stored. Idempotent (one version per
 * job). Returns the webhook deliveries written (to queue after the commit), or null when nothing
 * was registered.
 */
export async function registerSucceededJob(tx: DbTx, job: TrainingJob): Promise<{ versionId: string; deliveries: string[] } | null> {
  if (job.status !== "SUCCEEDED" || job.sweepId) return null;
  const project = await tx.project.findUniqueOrThrow({
    where: { id: job.projectId },
    select: {
      id: true,
      slug: true,
      name: true,
      description: true,
      registerModels: true,
      modelName: true,
      team: { select: { id: true, slug: true, name: true } },
    },
  });
  if (!project.registerModels) return null;
  const weights = await tx.jobArtifact.findUnique({ where: { jobId_name: { jobId: job.id, name: BEST_WEIGHTS } }, select: { id: true } });
  if (!weights) return null;
  const model = await lockRegisteredModel(tx, project);
  if (await tx.modelVersion.findUnique({ where: { jobId: job.id }, select: { id: true } })) return null;

  const last = await tx.modelVersion.aggregate({ where: { modelId: model.id }, _max: { version: true } });
  const version = (last._max.version ?? 0) + 1;
  const best =
    job.bestEpoch !== null
      ? await tx.jobEpoch.findUnique({ where: { jobId_epoch: { jobId: job.id, epoch: job.bestEpoch } }, select: { metrics: true } })
      : await tx.jobEpoch.findFirst({ where: { jobId: job.id }, orderBy: { epoch: "desc" }, select: { metrics: true } });
  const config = job.config as { train?: { data?: unknown } };
  const dataset = typeof config.train?.data === "string" ? config.train.data.replace(/^dataset:/, "") : null;
  const hash = configHash(job.config);
  const lineage: ModelLineage = {
    jobId: job.id,
    jobName: job.name,
    model: job.model,
    task: job.task,
    epochs: job.totalEpochs,
    bestEpoch: job.bestEpoch,
    dataset,
    datasetVersionId: job.datasetVersionId,
    configHash: hash,
  };
  const row = await tx.modelVersion.create({
    data: {
      modelId: model.id,
      version,
      jobId: job.id,
      artifactId: weights.id,
      metrics: (best?.metrics ?? {}) as Prisma.InputJsonValue,
      bestMetric: job.bestMetric,
      bestMetricName: job.bestMetricName,
      lineage,
      configHash: hash,
      dataset,
      description: `best.pt of ${job.name}`.slice(0, 500),
      createdById: job.createdById,
    },
    select: { id: true },
  });
  await queueRegistryCall(tx, model.id, { kind: "create_version", versionId: row.id });
  const projectPath = `/t/${project.team.slug}/p/${project.slug}`;
  const deliveries = await recordWebhookEvent(tx, project.team.id, "model.version_created", async () => ({
    team: project.team,
    project: { id: project.id, slug: project.slug, name: project.name },
    model: {
      name: model.name,
      version,
      versionId: row.id,
      jobId: job.id,
      bestMetric: job.bestMetric,
      bestMetricName: job.bestMetricName,
      dataset,
      configHash: hash,
    },
    links: { models: `${projectPath}/models`, job: `${projectPath}/jobs/${job.id}`, project: projectPath },
  }));
  return { versionId: row.id, deliveries };
}

/** MLflow tags of a version: lineage and the best epoch's metrics (names in MLflow's charset). */
export function versionTags(v: { id: string; lineage: unknown; metrics: unknown; version: number }): { key: string; value: string }[] {
  const l = v.lineage as ModelLineage;
  const tags: [string, string | number | null][] = [
    ["wyolo.version_id", v.id],
    ["wyolo.version", v.version],
    ["wyolo.job_id", l.jobId],
    ["wyolo.job_name", l.jobName],
    ["wyolo.model", l.model],
    ["wyolo.task", l.task],
    ["wyolo.epochs", l.epochs],
    ["wyolo.best_epoch", l.bestEpoch],
    ["wyolo.dataset", l.dataset],
    ["wyolo.dataset_version_id", l.datasetVersionId],
    ["wyolo.config_hash", l.configHash],
  ];
  for (const [key, value] of Object.entries((v.metrics ?? {}) as Record<string, unknown>))
    if (typeof value === "number" && Number.isFinite(value))
      tags.push([`wyolo.metric.${key.replace(/[^A-Za-z0-9_\-. :/]/g, "")}`, Number(value.toPrecision(6))]);
  return tags
    .filter((t): t is [string, string | number] => t[1] !== null && t[1] !== "")
    .map(([key, value]) => ({ key, value: String(value) }));
}
