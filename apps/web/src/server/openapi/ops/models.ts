import { z } from "zod";
import { listModelVersionsQuerySchema, setAliasSchema, type ModelsAnswer } from "@wyolo/contracts";
import type { ApiOperation } from "../operations";

const isoDate = z.iso.datetime({ offset: true });

const lineageSchema = z.object({
  jobId: z.string(),
  jobName: z.string(),
  model: z.string(),
  task: z.string(),
  epochs: z.int(),
  bestEpoch: z.int().nullable(),
  dataset: z.string().nullable().describe("`<name>@v<N>` for a dataset version, else the config's `train.data`"),
  datasetVersionId: z.string().nullable(),
  configHash: z.string().describe("sha256 of the canonical resolved config"),
});

const modelVersionSchema = z
  .object({
    id: z.string(),
    version: z.int().describe("1, 2, … per model"),
    createdAt: isoDate,
    createdBy: z.object({ id: z.string(), name: z.string() }).nullable().describe("Who submitted the job"),
    job: z.object({ id: z.string(), name: z.string(), status: z.string() }).nullable().describe("null once the job is deleted"),
    artifactId: z.string().nullable().describe("The job's weights/best.pt: GET /jobs/{jobId}/artifacts/{artifactId}/download"),
    metrics: z.record(z.string(), z.number().nullable()).describe("Every metric of the best epoch"),
    bestMetric: z.number().nullable(),
    bestMetricName: z.string().nullable(),
    lineage: lineageSchema,
    dataset: z.string().nullable(),
    configHash: z.string(),
    aliases: z.array(z.string()),
    mlflowVersion: z.string().nullable().describe("MLflow's version number once mirrored"),
  })
  .meta({ id: "ModelVersion" });

const aliasSchema = z.object({ alias: z.string(), version: z.int(), versionId: z.string(), jobId: z.string().nullable() });

export const modelsAnswerSchema = z
  .object({
    settings: z.object({
      registerModels: z.boolean().describe("Each succeeded job (not sweep trials) adds a version"),
      modelName: z.string().nullable().describe("The name the project set; null = `<team slug>/<project slug>`"),
      effectiveName: z.string(),
    }),
    model: z.object({ id: z.string(), name: z.string(), createdAt: isoDate }).nullable().describe("null until the first version"),
    aliases: z.array(aliasSchema),
    versions: z.array(modelVersionSchema).describe("Newest first"),
    pendingMirrorCalls: z.int().describe("Registry changes not yet sent to MLflow"),
    can: z.object({ alias: z.boolean(), settings: z.boolean() }).describe("What the caller may change"),
    mlflow: z.object({ uiUrl: z.string().nullable() }),
  })
  .meta({ id: "RegisteredModel" }) satisfies z.ZodType<ModelsAnswer>;

/** The models routes (one entry per route file and method), with their answer schemas beside them. */
export const MODELS_OPERATIONS: ApiOperation[] = [
  {
    id: "listModelVersions",
    method: "get",
    path: "/projects/{projectId}/models",
    tag: "Models",
    summary: "The project's registered model: settings, aliases and versions",
    description:
      "Every succeeded job of the project (not sweep trials, while `registerModels` is on) with a stored best.pt is a version, " +
      "with the metrics of its best epoch and its lineage. `before` pages back through older versions.",
    auth: "user",
    query: listModelVersionsQuerySchema,
    ok: [{ status: 200, description: "The model", schema: modelsAnswerSchema }],
  },
  {
    id: "setModelAlias",
    method: "put",
    path: "/projects/{projectId}/models/aliases/{alias}",
    tag: "Models",
    summary: "Point an alias (champion, staging…) at a version",
    description:
      "ADMIN and OWNER (`model.alias`; tokens: `models:write`). Alias names: 1–64 letters, digits, `_` or `-` (MLflow's rule; " +
      "`latest` and `v<N>` are reserved). An alias already set moves. Audited; mirrored to MLflow.",
    auth: "user",
    body: { json: setAliasSchema },
    ok: [{ status: 200, description: "The alias", schema: z.object({ alias: aliasSchema }) }],
  },
  {
    id: "deleteModelAlias",
    method: "delete",
    path: "/projects/{projectId}/models/aliases/{alias}",
    tag: "Models",
    summary: "Remove an alias",
    description: "ADMIN and OWNER (`model.alias`). Audited; mirrored to MLflow.",
    auth: "user",
    ok: [{ status: 204, description: "Removed" }],
    errors: [422],
  },
];
