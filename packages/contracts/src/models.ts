import { z } from "zod";

/**
 * The model registry: each project has at most one registered model; every succeeded job of the
 * project (not sweep trials, while `registerModels` is on) adds a version with its best.pt. The
 * in-app registry is the source; MLflow mirrors it through the `RegistryCall` outbox.
 */

/** MLflow's alias rule (letters, digits, `_`, `-`), capped at 64 here. */
export const ALIAS_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** MLflow reserves `latest` and `v<N>` (they name versions in `models:/<name>@…` URIs). */
const RESERVED_ALIAS = /^(latest|v\d+)$/i;

export const aliasSchema = z
  .string()
  .regex(ALIAS_PATTERN, "1–64 letters, digits, _ or -")
  .refine((a) => !RESERVED_ALIAS.test(a), "`latest` and v<number> are reserved by MLflow");

/** Version numbers are Postgres `integer`s: a larger one is refused here (422), not by the database (500). */
const INT_COLUMN_MAX = 2_147_483_647;

export const setAliasSchema = z.object({
  version: z
    .number({ error: "Give the version number" })
    .int("A whole number")
    .min(1, "Versions start at 1")
    .max(INT_COLUMN_MAX, "No such version number"),
});
export type SetAliasInput = z.infer<typeof setAliasSchema>;

/** A registered model's name, as MLflow accepts it; `/` allowed (the default is `<team>/<project>`). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$/;
export const modelNameSchema = z
  .string()
  .trim()
  .regex(MODEL_NAME_PATTERN, "1–128 letters, digits, _ . - or /, starting with a letter or digit");

/** The project settings of the registry (PATCH /projects/{id}); `modelName: null` = the default name. */
export const registrySettingsFields = {
  registerModels: z.boolean().optional(),
  modelName: z.union([z.literal("").transform(() => null), z.null(), modelNameSchema]).optional(),
};

export const defaultModelName = (teamSlug: string, projectSlug: string) => `${teamSlug}/${projectSlug}`;

export const listModelVersionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(100),
  /** Versions older than this one (the next page). */
  before: z.coerce.number().int("A version number").min(1, "A version number").max(INT_COLUMN_MAX, "No such version number").optional(),
});

/** What a version records about where it came from (ModelVersion.lineage). */
export type ModelLineage = {
  jobId: string;
  jobName: string;
  model: string;
  task: string;
  epochs: number;
  bestEpoch: number | null;
  dataset: string | null;
  datasetVersionId: string | null;
  configHash: string;
};

/** The outbox rows the workers send to MLflow, in order per model. Versions are named by id: MLflow's number is read at send time. */
export type RegistryCallPayload =
  | { kind: "create_model"; description: string; tags: { key: string; value: string }[] }
  | { kind: "create_version"; versionId: string }
  | { kind: "set_alias"; alias: string; versionId: string }
  | { kind: "delete_alias"; alias: string }
  | { kind: "rename"; from: string; to: string };

export type ModelVersionView = {
  id: string;
  version: number;
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  job: { id: string; name: string; status: string } | null;
  /** The job's weights/best.pt (download through the job's artifact route); null once gone. */
  artifactId: string | null;
  metrics: Record<string, number | null>;
  bestMetric: number | null;
  bestMetricName: string | null;
  lineage: ModelLineage;
  dataset: string | null;
  configHash: string;
  aliases: string[];
  /** MLflow's version number once mirrored; null while pending (or without MLflow). */
  mlflowVersion: string | null;
};

export type ModelsAnswer = {
  settings: { registerModels: boolean; modelName: string | null; effectiveName: string };
  model: { id: string; name: string; createdAt: string } | null;
  aliases: { alias: string; version: number; versionId: string; jobId: string | null }[];
  versions: ModelVersionView[];
  /** Calls still waiting for MLflow (0 without MLflow after a worker with it sent them). */
  pendingMirrorCalls: number;
  /** What the caller may change: aliases (model.alias) and the settings (project.update). */
  can: { alias: boolean; settings: boolean };
  mlflow: { uiUrl: string | null };
};

/** The body of `model.version_created` webhooks (WebhookPayload.model). */
export type ModelVersionWebhook = {
  name: string;
  version: number;
  versionId: string;
  jobId: string;
  bestMetric: number | null;
  bestMetricName: string | null;
  dataset: string | null;
  configHash: string;
};
