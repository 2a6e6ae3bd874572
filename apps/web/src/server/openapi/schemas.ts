import { z } from "zod";
import {
  apiErrorSchema,
  classMetricsSchema,
  EXPORT_FORMATS,
  JOB_STATUSES,
  PRIORITIES,
  ROLES,
  SWEEP_DIRECTIONS,
  SWEEP_PRUNERS,
  SWEEP_SAMPLERS,
  SWEEP_STATUSES,
  TASKS,
  TOKEN_SCOPES,
  TRIAL_STATES,
  WEBHOOK_EVENTS,
  type ApiTokenSummary,
  type DatasetEntry,
  type ExportSummary,
  type JobEpochRow,
  type JobListPage,
  type JobLogLine,
  type JobSummary,
  type SweepSummary,
  type SweepTrialRow,
  type WebhookPayload,
} from "@wyolo/contracts";

// The answers of /api/v1 as zod schemas, for the OpenAPI document and the test that checks real
// answers against it. Where contracts has the TypeScript type, `satisfies` keeps the two in step.
// `.meta({ id })` makes a schema a named component of the document.

const isoDate = z.iso.datetime({ offset: true }).describe("ISO 8601 date-time");
const nullableDate = isoDate.nullable();
const role = z.enum(ROLES).meta({ id: "Role" });
const priority = z.enum(PRIORITIES);
const jobStatus = z.enum(JOB_STATUSES).meta({ id: "JobStatus" });
const userRef = z.object({ id: z.string(), name: z.string() }).meta({ id: "UserRef" });
const teamRef = z.object({ id: z.string(), name: z.string(), slug: z.string() });
const numberMap = z.record(z.string(), z.number().nullable());
const freeForm = z.record(z.string(), z.unknown());
/** What jobs and sweeps both carry: who started them, when, and their MLflow run. */
const runFields = {
  failureReason: z.string().nullable(),
  createdBy: userRef,
  createdAt: isoDate,
  startedAt: nullableDate,
  finishedAt: nullableDate,
  cancelRequestedAt: nullableDate,
  mlflowExperimentId: z.string().nullable(),
  mlflowRunId: z.string().nullable(),
};

export const errorSchema = apiErrorSchema.meta({
  id: "Error",
  description: "Every error answer. `fields` maps a dotted field path to its messages (422 and some 409).",
});

export const sessionUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    isPlatformAdmin: z.boolean(),
    grant: z
      .object({
        tokenId: z.string(),
        kind: z.enum(["PERSONAL", "SERVICE"]),
        scopes: z.array(z.enum(TOKEN_SCOPES)),
        teamId: z.string().nullable().describe("The one team the token acts in; null: all the user's teams"),
      })
      .optional()
      .describe("Present when the call was made with an API token: what it may do"),
  })
  .meta({ id: "SessionUser" });

export const teamSummarySchema = z
  .object({ id: z.string(), name: z.string(), slug: z.string(), role, viaPlatformAdmin: z.boolean() })
  .meta({ id: "TeamSummary" });

export const teamSchema = z.object({ id: z.string(), name: z.string(), slug: z.string(), role }).meta({ id: "Team" });
export const createdTeamSchema = teamSchema.extend({ createdAt: isoDate }).meta({ id: "CreatedTeam" });
export const updatedTeamSchema = z.object({ id: z.string(), name: z.string(), slug: z.string() }).meta({ id: "UpdatedTeam" });

export const projectSchema = z
  .object({
    id: z.string(),
    teamId: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: "Project" });
export const projectListItemSchema = projectSchema.extend({ jobCount: z.int() }).meta({ id: "ProjectListItem" });
export const projectDetailSchema = z
  .object({
    id: z.string(),
    teamId: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    createdAt: isoDate,
    team: teamRef,
    role,
  })
  .meta({ id: "ProjectDetail" });

export const memberSchema = z
  .object({ userId: z.string(), email: z.string(), name: z.string(), disabled: z.boolean(), role, joinedAt: isoDate })
  .meta({ id: "Member" });
export const memberRoleSchema = z.object({ role, userId: z.string() }).meta({ id: "MemberRole" });

export const invitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role,
    expiresAt: isoDate,
    createdAt: isoDate,
    invitedBy: z.object({ name: z.string() }),
  })
  .meta({ id: "Invitation" });
export const createdInvitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role,
    expiresAt: isoDate,
    createdAt: isoDate,
    url: z.url().describe("The single-use invitation link; shown only in this answer"),
  })
  .meta({ id: "CreatedInvitation" });
export const invitationPreviewSchema = z
  .object({ teamName: z.string(), teamSlug: z.string(), email: z.string(), role, expiresAt: isoDate, hasAccount: z.boolean() })
  .meta({ id: "InvitationPreview" });
export const acceptedInvitationSchema = z
  .object({ teamSlug: z.string(), teamName: z.string(), role, email: z.string(), newAccount: z.boolean() })
  .meta({ id: "AcceptedInvitation" });

export const adminUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    isPlatformAdmin: z.boolean(),
    disabled: z.boolean(),
    createdAt: isoDate,
    _count: z.object({ memberships: z.int() }),
  })
  .meta({ id: "AdminUser" });
export const updatedUserSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string(), isPlatformAdmin: z.boolean(), disabled: z.boolean() })
  .meta({ id: "UpdatedUser" });

export const jobSummarySchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    name: z.string(),
    status: jobStatus,
    priority,
    model: z.string(),
    task: z.string(),
    currentEpoch: z.int().nullable(),
    totalEpochs: z.int(),
    progress: z.number(),
    etaSeconds: z.number().nullable(),
    bestMetric: z.number().nullable(),
    bestMetricName: z.string().nullable(),
    attempt: z.int(),
    workerName: z.string().nullable(),
    ...runFields,
    heartbeatAt: nullableDate,
    trackingDelayed: z.boolean(),
    sweepId: z.string().nullable(),
    trialNumber: z.int().nullable(),
    sweep: z.object({ id: z.string(), name: z.string() }).nullable(),
  })
  .meta({ id: "JobSummary" }) satisfies z.ZodType<JobSummary>;

export const jobListPageSchema = z
  .object({
    jobs: z.array(jobSummarySchema),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last"),
    trialCount: z.int().nullable().describe("On the first page: how many sweep trials match the filters"),
  })
  .meta({ id: "JobListPage" }) satisfies z.ZodType<JobListPage>;

export const jobDetailSchema = z
  .object({
    job: jobSummarySchema
      .extend({
        config: freeForm.describe("The resolved training config (model, type, task, train, metadata, logging)"),
        configSource: z.string().nullable().describe("The config text as submitted (secrets dropped), for clone and edit"),
        configSources: z.record(z.string(), z.string()).describe("Where each value came from, e.g. `train.epochs` → platform default"),
        failureClass: z.string().nullable(),
        logTail: z.string().nullable(),
        bestEpoch: z.int().nullable(),
        retryOfId: z.string().nullable(),
        trialState: z.string().nullable(),
        trialValue: z.number().nullable(),
        prunedAtEpoch: z.int().nullable(),
        classMetrics: z
          .array(classMetricsSchema)
          .nullable()
          .describe("Per-class metrics of the final validation (the trainer's `finished.classes`); null before it or without one"),
        dataset: z
          .object({
            id: z.string(),
            name: z.string(),
            version: z.int(),
            versionId: z.string(),
            label: z.string().describe("`<name>@v<N>`"),
          })
          .nullable()
          .describe("The dataset version the job trained on (`train.data: dataset:<name>@v<N>`); null for a path"),
      })
      .meta({ id: "JobDetail" }),
    events: z.array(z.object({ id: z.string(), kind: z.string(), message: z.string(), createdAt: isoDate }).meta({ id: "JobEvent" })),
    project: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    team: teamRef,
    mlflow: z.object({ uiUrl: z.string().nullable() }),
    permissions: z.object({ cancel: z.boolean(), create: z.boolean() }).describe("What the caller may do with this job"),
  })
  .meta({ id: "JobAnswer" });

export const jobEpochSchema = z
  .object({ epoch: z.int(), losses: numberMap, metrics: numberMap, lr: numberMap, epochTime: z.number().nullable() })
  .meta({ id: "JobEpoch" }) satisfies z.ZodType<JobEpochRow>;

export const jobLogLineSchema = z
  .object({ seq: z.int(), stream: z.enum(["stdout", "stderr", "trainer"]), line: z.string(), at: isoDate })
  .meta({ id: "JobLogLine" }) satisfies z.ZodType<JobLogLine>;
export const jobLogsSchema = z
  .object({ lines: z.array(jobLogLineSchema), next: z.int().describe("Pass as `after` to read on") })
  .meta({ id: "JobLogs" });

export const artifactSchema = z
  .object({ id: z.string(), name: z.string(), size: z.int(), sha256: z.string(), updatedAt: isoDate })
  .meta({ id: "Artifact" });

export const exportSummarySchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    projectId: z.string(),
    format: z.enum(EXPORT_FORMATS),
    options: z
      .object({
        format: z.enum(EXPORT_FORMATS),
        imgsz: z.int().optional(),
        batch: z.int().optional(),
        half: z.boolean().optional(),
        int8: z.boolean().optional(),
        dynamic: z.boolean().optional(),
        opset: z.int().optional(),
      })
      .meta({ id: "ExportOptions" }),
    status: jobStatus,
    workerName: z.string().nullable(),
    failureReason: z.string().nullable(),
    artifact: z.object({ id: z.string(), name: z.string(), size: z.int(), sha256: z.string() }).nullable(),
    createdBy: userRef,
    createdAt: isoDate,
    startedAt: nullableDate,
    finishedAt: nullableDate,
  })
  .meta({ id: "ExportSummary" }) satisfies z.ZodType<ExportSummary>;

export const exportListSchema = z
  .object({
    exports: z.array(exportSummarySchema),
    availableFormats: z.array(z.string()).describe("Formats an online worker can produce now"),
    canExport: z.boolean(),
  })
  .meta({ id: "ExportList" });

const trialCounts = z.object({ total: z.int(), active: z.int(), complete: z.int(), pruned: z.int(), failed: z.int() });

export const sweepSummarySchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    name: z.string(),
    status: z.enum(SWEEP_STATUSES),
    priority,
    nTrials: z.int(),
    parallel: z.int(),
    direction: z.enum(SWEEP_DIRECTIONS),
    objective: z.string(),
    sampler: z.enum(SWEEP_SAMPLERS),
    pruner: z.enum(SWEEP_PRUNERS),
    counts: trialCounts,
    bestValue: z.number().nullable(),
    bestTrialNumber: z.int().nullable(),
    bestJobId: z.string().nullable(),
    ...runFields,
    deadlineAt: nullableDate,
  })
  .meta({ id: "SweepSummary" }) satisfies z.ZodType<SweepSummary>;

export const sweepTrialSchema = z
  .object({
    number: z.int(),
    jobId: z.string(),
    jobName: z.string(),
    jobStatus,
    state: z.enum(TRIAL_STATES).nullable().describe("What Optuna was told; null while the trial runs"),
    params: freeForm,
    value: z.number().nullable(),
    intermediate: z.array(z.tuple([z.int(), z.number()])).describe("[epoch, objective] as reported to the pruner"),
    prunedAtEpoch: z.int().nullable(),
    startedAt: nullableDate,
    finishedAt: nullableDate,
  })
  .meta({ id: "SweepTrial" }) satisfies z.ZodType<SweepTrialRow>;

export const sweepDetailSchema = sweepSummarySchema
  .extend({
    settings: freeForm.describe("The resolved `sweeper:` block with its search space"),
    config: freeForm.describe("The base config each trial starts from"),
    trials: z.array(sweepTrialSchema),
    importances: z.record(z.string(), z.number()).nullable(),
    configSource: z.string().nullable(),
  })
  .meta({ id: "SweepDetail" });

export const sweepListPageSchema = z
  .object({ sweeps: z.array(sweepSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: "SweepListPage" });

const submissionMeta = {
  warnings: z.array(z.string()).describe("What was accepted but changed or dropped (legacy blocks, defaults)"),
  sources: z.record(z.string(), z.string()).describe("Where each defaulted value came from"),
};
export const createdJobSchema = z.object({ kind: z.literal("job"), job: jobSummarySchema, ...submissionMeta }).meta({ id: "CreatedJob" });
export const createdSweepSchema = z
  .object({ kind: z.literal("sweep"), sweep: sweepSummarySchema, ...submissionMeta })
  .meta({ id: "CreatedSweep" });
export const sweepSubmissionSchema = z.object({ sweep: sweepSummarySchema, ...submissionMeta }).meta({ id: "SweepSubmission" });
export const jobSubmissionSchema = z
  .discriminatedUnion("kind", [createdJobSchema, createdSweepSchema])
  .meta({ id: "JobSubmission", description: "A job, or a sweep when the config has `sweeper.tune: true`" });
export const retriedJobSchema = z.object({ job: jobSummarySchema, warnings: z.array(z.string()) }).meta({ id: "ResumedJob" });

const jobRef = z.union([
  z.object({ id: z.string(), name: z.string(), status: z.string(), href: z.string() }),
  z.object({ id: z.null(), name: z.null() }).describe("A job of a team the caller cannot read"),
]);
export const workerSchema = z
  .object({
    name: z.string(),
    host: z.string(),
    startedAt: isoDate,
    lastSeen: isoDate,
    online: z.boolean(),
    draining: z.boolean(),
    concurrency: z.int(),
    trainer: z.object({ ok: z.boolean(), problem: z.string().optional(), versions: z.record(z.string(), z.string()) }),
    exportFormats: z.array(z.string()),
    gpus: z.array(
      z.object({
        index: z.int(),
        uuid: z.string(),
        name: z.string(),
        memoryTotalMb: z.number(),
        memoryUsedMb: z.number(),
        memoryFreeMb: z.number(),
        utilizationPercent: z.number(),
        temperatureC: z.number().nullable(),
        job: jobRef.nullable(),
      }),
    ),
    running: z.array(jobRef),
  })
  .meta({ id: "Worker" });

export const configDefaultsSchema = z
  .object({ epochs: z.int().optional(), batch: z.number().optional() })
  .meta({ id: "ConfigDefaults", description: "DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE; an unset one is absent" });

const modelKind = { model: z.string(), task: z.enum(TASKS), type: z.enum(["yolo", "rtdetr"]) };
export const trainingOptionsSchema = z
  .object({
    architectures: z.array(z.object(modelKind)).describe("What every worker trains from scratch"),
    weights: z.array(z.object({ ...modelKind, workers: z.int() })).describe("Named weights online workers have"),
    datasets: z.array(
      z
        .object({
          path: z.string().describe("Relative to DATASETS_DIR, as `train.data` takes it"),
          kind: z.enum(["yaml", "classify"]),
          imgsz: z.int().optional().describe("An image size that fits its first training image"),
          workers: z.int(),
        })
        .meta({ id: "DatasetEntry" }) satisfies z.ZodType<DatasetEntry & { workers: number }>,
    ),
    workers: z.int().describe("Online workers that reported; 0: the lists are only what every worker can do"),
    truncated: z.boolean().describe("A worker's scan stopped at its bounds"),
  })
  .meta({ id: "TrainingOptions" });

export const tokenSummarySchema = z
  .object({
    id: z.string(),
    kind: z.enum(["PERSONAL", "SERVICE"]),
    name: z.string(),
    prefix: z.string().describe("The token's first characters, to recognise it"),
    scopes: z.array(z.enum(TOKEN_SCOPES)),
    team: teamRef.nullable().describe("The team it is narrowed to (personal) or belongs to (service)"),
    role: z.enum(["ADMIN", "MEMBER", "VIEWER"]).nullable().describe("A service token's role in its team"),
    expiresAt: isoDate,
    lastUsedAt: nullableDate,
    lastUsedIp: z.string().nullable(),
    revokedAt: nullableDate,
    createdAt: isoDate,
    createdBy: userRef.nullable(),
  })
  .meta({ id: "ApiToken" }) satisfies z.ZodType<ApiTokenSummary>;
export const createdTokenSchema = z
  .object({ token: z.string().describe("`wyolo_…`: shown in this answer only, stored hashed"), summary: tokenSummarySchema })
  .meta({ id: "CreatedApiToken" });

const deliveryStatus = z.enum(["PENDING", "SUCCEEDED", "FAILED"]);
export const webhookSchema = z
  .object({
    id: z.string(),
    teamId: z.string(),
    name: z.string(),
    kind: z.enum(["GENERIC", "SLACK"]),
    url: z.string().describe("The URL with its path and query masked (the full URL is stored encrypted)"),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    enabled: z.boolean(),
    signed: z.boolean().describe("Deliveries carry a `wyolo-signature` header (generic webhooks)"),
    createdAt: isoDate,
    updatedAt: isoDate,
    lastDelivery: z.object({ status: deliveryStatus, createdAt: isoDate, statusCode: z.int().nullable() }).nullable(),
  })
  .meta({ id: "Webhook" });
export const webhookWithSecretSchema = z
  .object({
    webhook: webhookSchema,
    secret: z.string().nullable().describe("`whsec_…` signing secret, in this answer only; null when none was made"),
  })
  .meta({ id: "WebhookWithSecret" });

export const webhookPayloadSchema = z
  .object({
    id: z.string().describe("The delivery's id (also in the `wyolo-delivery` header)"),
    event: z.enum(WEBHOOK_EVENTS),
    createdAt: isoDate,
    team: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
    project: z.object({ id: z.string(), slug: z.string(), name: z.string() }).optional(),
    job: z
      .object({
        id: z.string(),
        name: z.string(),
        status: z.string(),
        task: z.string(),
        model: z.string(),
        bestMetric: z.number().nullable(),
        bestMetricName: z.string().nullable(),
        bestEpoch: z.int().nullable(),
        failureClass: z.string().nullable(),
        failureReason: z.string().nullable(),
        startedAt: nullableDate,
        finishedAt: nullableDate,
      })
      .optional(),
    export: z
      .object({ id: z.string(), jobId: z.string(), format: z.string(), status: z.string(), failureReason: z.string().nullable() })
      .optional(),
    sweep: z
      .object({ id: z.string(), name: z.string(), status: z.string(), bestValue: z.number().nullable(), bestJobId: z.string().nullable() })
      .optional(),
    model: z
      .object({
        name: z.string(),
        version: z.int(),
        versionId: z.string(),
        jobId: z.string(),
        bestMetric: z.number().nullable(),
        bestMetricName: z.string().nullable(),
        dataset: z.string().nullable(),
        configHash: z.string(),
      })
      .optional()
      .describe("model.version_created: the new version of the project's registered model"),
    links: z.record(z.string(), z.string()).describe("Absolute links into the dashboard"),
  })
  .meta({ id: "WebhookPayload" }) satisfies z.ZodType<WebhookPayload>;

export const webhookDeliverySchema = z
  .object({
    id: z.string(),
    event: z.string(),
    payload: freeForm.describe("The JSON body sent (a `WebhookPayload`; Slack webhooks: the message)"),
    status: deliveryStatus,
    attempts: z.int(),
    nextAttemptAt: nullableDate.describe("When the next try is due, while PENDING"),
    lastStatusCode: z.int().nullable(),
    durationMs: z.int().nullable(),
    responseSnippet: z.string().nullable().describe("The receiver's answer, at most 1 kB"),
    error: z.string().nullable(),
    redeliveryOfId: z.string().nullable(),
    createdAt: isoDate,
    deliveredAt: nullableDate,
  })
  .meta({ id: "WebhookDelivery" });
export const deliveryPageSchema = z
  .object({ deliveries: z.array(webhookDeliverySchema), nextCursor: z.string().nullable() })
  .meta({ id: "WebhookDeliveryPage" });
