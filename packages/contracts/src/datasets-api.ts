import { z } from "zod";
import {
  DATASET_TASKS,
  DATASET_VERSION_STATUSES,
  datasetNameSchema,
  datasetReportSchema,
  datasetStatsSchema,
  itemLabelSchema,
} from "./datasets.ts";

/**
 * Requests and answers of the dataset API (docs/datasets.md). Routes, relative to /api/v1:
 *
 *   GET    /teams/{teamId}/datasets                       → DatasetListAnswer              (dataset.read)
 *   POST   /teams/{teamId}/datasets        CreateDataset  → 201 { dataset: DatasetSummary } (dataset.upload)
 *   GET    /datasets/{datasetId}                          → { dataset: DatasetDetail }     (dataset.read)
 *   PATCH  /datasets/{datasetId}           UpdateDataset  → { dataset: DatasetSummary }    (dataset.upload)
 *   DELETE /datasets/{datasetId}                          → 204; 409 while a job references one of its versions (dataset.delete)
 *   POST   /datasets/{datasetId}/versions  CreateVersion  → 201 CreateVersionAnswer        (dataset.upload)
 *   GET    /dataset-versions/{versionId}                  → { version: DatasetVersionDetail } (dataset.read)
 *   PATCH  /dataset-versions/{versionId}   UpdateVersion  → { version: DatasetVersionSummary } (archive/unarchive: dataset.delete)
 *   DELETE /dataset-versions/{versionId}                  → 204; 409 while a job references it (dataset.delete)
 *   GET    /dataset-versions/{versionId}/upload           → { upload: UploadState }        (dataset.upload; resume: which parts are there)
 *   POST   /dataset-versions/{versionId}/upload/parts  SignParts → { parts: SignedPart[] } (dataset.upload; fresh URLs)
 *   POST   /dataset-versions/{versionId}/upload/complete CompleteUpload → { version: DatasetVersionSummary } (dataset.upload; → VALIDATING)
 *   DELETE /dataset-versions/{versionId}/upload           → 204 (dataset.upload; aborts, the UPLOADING version is removed)
 *   GET    /dataset-versions/{versionId}/items?…   ItemsQuery → DatasetItemsAnswer         (dataset.read)
 *   GET    /dataset-versions/{versionId}/diff?against=N   → DatasetDiffAnswer              (dataset.read)
 *   GET    /teams/{teamId}/datasets/versions              → { versions: TrainableVersion[] } (dataset.read; the submit form's picker)
 *
 * The bytes never pass through the web app: a version's archive goes to the object store in parts,
 * each PUT to a presigned URL (`PUT <url>` with the part's bytes as the body; no other headers needed); keep
 * each answer's ETag header (the bucket's CORS exposes it) and send them all to …/upload/complete.
 * The status of a version changes live: socket event `dataset:version` in room `dataset:<datasetId>`.
 */

const isoDate = z.string().describe("ISO 8601");
const userRef = z.object({ id: z.string(), name: z.string().nullable(), email: z.string() }).nullable();

/** Archives the upload takes: zip, tar, tar.gz/tgz. */
export const DATASET_ARCHIVE_EXTENSIONS = [".zip", ".tar", ".tar.gz", ".tgz"] as const;
export const isDatasetArchiveName = (name: string) => DATASET_ARCHIVE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));

/** Part size of an upload (S3's minimum is 5 MiB for all parts but the last; at most 10,000 parts). */
export const DATASET_UPLOAD_PART_BYTES = 16 * 1024 * 1024;
export const DATASET_UPLOAD_MAX_PARTS = 10_000;
/** Presigned part URLs are asked for in batches of at most this many. */
export const DATASET_SIGN_PARTS_MAX = 100;
export const datasetUploadPartCount = (size: number, partSize = DATASET_UPLOAD_PART_BYTES) => Math.max(1, Math.ceil(size / partSize));

// --- Requests

export const createDatasetSchema = z.object({
  name: datasetNameSchema,
  description: z.string().trim().max(2000, "At most 2,000 characters").default(""),
});
export type CreateDatasetInput = z.input<typeof createDatasetSchema>;

export const updateDatasetSchema = z.object({ description: z.string().trim().max(2000, "At most 2,000 characters") });
export type UpdateDatasetInput = z.input<typeof updateDatasetSchema>;

const removedPathSchema = z
  .string()
  .trim()
  .min(1)
  .max(1024, "At most 1,024 characters")
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "A relative path inside the version (no `..`, no leading `/`)");

/** Version numbers are Postgres `integer`s: a larger one is refused here (422), not by the database (500). */
const INT_COLUMN_MAX = 2_147_483_647;

/**
 * A new version: an archive to upload (`file`), or made from an older version (`parent`) with
 * `removedPaths` taken away and, optionally, an archive of added/changed files on top. Without a
 * file the version goes straight to validation.
 */
export const createVersionSchema = z
  .object({
    file: z
      .object({
        name: z
          .string()
          .trim()
          .min(1, "Name the archive")
          .max(255, "At most 255 characters")
          .refine(isDatasetArchiveName, "A .zip, .tar, .tar.gz or .tgz archive"),
        size: z.number().int("Whole bytes").min(1, "The archive is empty"),
      })
      .optional(),
    parent: z.number().int("A version number").min(1, "A version number").max(INT_COLUMN_MAX, "No such version number").optional(),
    removedPaths: z.array(removedPathSchema).max(100_000, "At most 100,000 paths").default([]),
  })
  .superRefine((v, ctx) => {
    if (!v.file && v.parent === undefined)
      ctx.addIssue({ code: "custom", path: ["file"], message: "Upload an archive, or make the version from an older one (parent)" });
    if (v.removedPaths.length > 0 && v.parent === undefined)
      ctx.addIssue({ code: "custom", path: ["removedPaths"], message: "Removing paths needs a parent version" });
    if (!v.file && v.parent !== undefined && v.removedPaths.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["removedPaths"],
        message: "Nothing changes: remove paths or upload an archive of added files",
      });
  });
export type CreateVersionInput = z.input<typeof createVersionSchema>;

export const updateVersionSchema = z.object({ archived: z.boolean() });
export type UpdateVersionInput = z.input<typeof updateVersionSchema>;

export const signPartsSchema = z.object({
  partNumbers: z
    .array(z.number().int().min(1).max(DATASET_UPLOAD_MAX_PARTS))
    .min(1, "Name at least one part")
    .max(DATASET_SIGN_PARTS_MAX, `At most ${DATASET_SIGN_PARTS_MAX} parts at a time`),
});
export type SignPartsInput = z.input<typeof signPartsSchema>;

/**
 * Finishing an upload: the parts with the ETags their PUTs answered. May be left out where the
 * store lists parts itself (S3, MinIO); s3rver cannot, so browsers and the CLI always send them.
 */
export const completeUploadSchema = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(DATASET_UPLOAD_MAX_PARTS), etag: z.string().trim().min(1).max(200) }))
    .min(1, "Name the uploaded parts")
    .max(DATASET_UPLOAD_MAX_PARTS)
    .optional(),
});
export type CompleteUploadInput = z.input<typeof completeUploadSchema>;

const boolFlag = z
  .enum(["1", "0", "true", "false"])
  .transform((v) => v === "1" || v === "true")
  .optional();

export const datasetItemsQuerySchema = z.object({
  split: z.string().trim().max(64).optional(),
  classId: z.coerce.number().int().min(0).max(100_000).optional(),
  /** `1`: only images with errors (in the image or its label file). */
  errors: boolFlag,
  /** The last path of the previous page. */
  cursor: z.string().max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(48),
});
export type DatasetItemsQuery = z.input<typeof datasetItemsQuerySchema>;

export const datasetDiffQuerySchema = z.object({
  against: z.coerce.number().int("A version number").min(1, "A version number").max(INT_COLUMN_MAX, "No such version number"),
});

// --- Answers

export const datasetVersionSummarySchema = z.object({
  id: z.string(),
  datasetId: z.string(),
  version: z.number().int(),
  /** `name@vN`. */
  label: z.string(),
  /** What `train.data` takes: `dataset:name@vN`. */
  ref: z.string(),
  status: z.enum(DATASET_VERSION_STATUSES),
  task: z.enum(DATASET_TASKS).nullable(),
  parentVersion: z.number().int().nullable(),
  fileCount: z.number().int().nullable(),
  totalBytes: z.number().nullable(),
  /** The uploaded archive's name and size (while UPLOADING/VALIDATING; kept for the record). */
  uploadName: z.string().nullable(),
  uploadSize: z.number().nullable(),
  classNames: z.array(z.string()).nullable(),
  /** Error and warning totals of the report (null until validated). */
  errors: z.number().int().nullable(),
  warnings: z.number().int().nullable(),
  failureReason: z.string().nullable(),
  archived: z.boolean(),
  /** Jobs that trained (or train) from it; a version with any cannot be deleted. */
  jobCount: z.number().int(),
  createdBy: userRef,
  createdAt: isoDate,
  validatedAt: isoDate.nullable(),
});
export type DatasetVersionSummary = z.infer<typeof datasetVersionSummarySchema>;

export const datasetSummarySchema = z.object({
  id: z.string(),
  teamId: z.string(),
  name: z.string(),
  description: z.string(),
  versionCount: z.number().int(),
  /** The newest READY, unarchived version. */
  latest: datasetVersionSummarySchema.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type DatasetSummary = z.infer<typeof datasetSummarySchema>;

export const datasetUsageSchema = z.object({
  /** Bytes the team's versions hold (uploads in progress counted at their declared size). */
  usedBytes: z.number(),
  quotaBytes: z.number().describe("DATASET_TEAM_QUOTA_BYTES"),
  maxUploadBytes: z.number().describe("DATASET_MAX_UPLOAD_BYTES"),
});
export type DatasetUsage = z.infer<typeof datasetUsageSchema>;

export const datasetListAnswerSchema = z.object({ datasets: z.array(datasetSummarySchema), usage: datasetUsageSchema });
export type DatasetListAnswer = z.infer<typeof datasetListAnswerSchema>;

export const datasetDetailSchema = datasetSummarySchema.extend({
  team: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  /** Newest first. */
  versions: z.array(datasetVersionSummarySchema),
  /** What the caller may do here. */
  canUpload: z.boolean(),
  canDelete: z.boolean(),
});
export type DatasetDetail = z.infer<typeof datasetDetailSchema>;

export const datasetJobRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  project: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  createdAt: isoDate,
});

export const datasetVersionDetailSchema = datasetVersionSummarySchema.extend({
  dataset: z.object({ id: z.string(), name: z.string(), teamId: z.string(), teamSlug: z.string() }),
  manifestHash: z.string().nullable(),
  removedPaths: z.array(z.string()),
  report: datasetReportSchema.nullable(),
  stats: datasetStatsSchema.nullable(),
  /** Files by kind (image, label, yaml, other) and images per split. */
  counts: z.object({ byKind: z.record(z.string(), z.number().int()), imagesPerSplit: z.record(z.string(), z.number().int()) }),
  /** The newest jobs that used it (at most 50; jobCount has them all). */
  jobs: z.array(datasetJobRefSchema),
  canUpload: z.boolean(),
  canDelete: z.boolean(),
});
export type DatasetVersionDetail = z.infer<typeof datasetVersionDetailSchema>;

export const signedPartSchema = z.object({ partNumber: z.number().int(), url: z.string() });
export type SignedPart = z.infer<typeof signedPartSchema>;

export const uploadStateSchema = z.object({
  versionId: z.string(),
  /** The version's status; past UPLOADING the upload is over (done: a resume has nothing left to send). */
  status: z.enum(DATASET_VERSION_STATUSES),
  done: z.boolean(),
  fileName: z.string(),
  size: z.number(),
  partSize: z.number().int(),
  partCount: z.number().int(),
  /**
   * Parts already in the object store (resume sends the others); null where the store cannot list
   * parts (s3rver): the client then resumes from the parts and ETags it kept.
   */
  uploaded: z.array(z.object({ partNumber: z.number().int(), size: z.number(), etag: z.string() })).nullable(),
  /** When the presigned URLs handed out now stop working. */
  urlsExpireAt: isoDate,
});
export type UploadState = z.infer<typeof uploadStateSchema>;

export const createVersionAnswerSchema = z.object({
  version: datasetVersionSummarySchema,
  /** Null for a version made from a parent without an archive (it is VALIDATING already). */
  upload: uploadStateSchema
    .extend({ parts: z.array(signedPartSchema).describe(`The first ${DATASET_SIGN_PARTS_MAX} parts' URLs`) })
    .nullable(),
});
export type CreateVersionAnswer = z.infer<typeof createVersionAnswerSchema>;

export const datasetItemSchema = z.object({
  path: z.string(),
  split: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  size: z.number(),
  labels: z.array(itemLabelSchema),
  classIds: z.array(z.number().int()),
  errorCount: z.number().int(),
  /** A presigned GET of the image, valid a few minutes (DOWNLOAD_URL_TTL_SECONDS, at most 300 s). */
  url: z.string(),
});
export type DatasetItem = z.infer<typeof datasetItemSchema>;

export const datasetItemsAnswerSchema = z.object({
  items: z.array(datasetItemSchema),
  /** Pass as `cursor` for the next page; null at the end. */
  nextCursor: z.string().nullable(),
  classNames: z.array(z.string()),
  task: z.enum(DATASET_TASKS).nullable(),
});
export type DatasetItemsAnswer = z.infer<typeof datasetItemsAnswerSchema>;

/** Lists of a diff hold at most this many paths each; the counts have them all. */
export const DATASET_DIFF_MAX_PATHS = 1000;

export const datasetDiffAnswerSchema = z.object({
  from: z.object({ version: z.number().int(), label: z.string() }),
  to: z.object({ version: z.number().int(), label: z.string() }),
  files: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    counts: z.object({ added: z.number().int(), removed: z.number().int(), changed: z.number().int(), unchanged: z.number().int() }),
    truncated: z.boolean(),
  }),
  /** Instances (images for classify) per class in each, by class name. */
  classes: z.array(
    z.object({ id: z.number().int(), name: z.string(), from: z.number().int(), to: z.number().int(), delta: z.number().int() }),
  ),
  imagesPerSplit: z.array(z.object({ split: z.string(), from: z.number().int(), to: z.number().int() })),
});
export type DatasetDiffAnswer = z.infer<typeof datasetDiffAnswerSchema>;

/** The submit form's picker (GET /teams/{teamId}/datasets/versions): the team's READY, unarchived versions, newest first. */
export const trainableVersionSchema = z.object({
  datasetId: z.string(),
  name: z.string(),
  version: z.number().int(),
  ref: z.string(),
  label: z.string(),
  task: z.enum(DATASET_TASKS).nullable(),
  classCount: z.number().int(),
  fileCount: z.number().int().nullable(),
  latest: z.boolean(),
  createdAt: isoDate,
});
export type TrainableVersion = z.infer<typeof trainableVersionSchema>;
