import { z } from "zod";

/**
 * Datasets as versioned objects (docs/datasets.md). A version is an immutable manifest of
 * content-addressed files; a job names one as `data: dataset:<name>@v<N>` and records it.
 */

export const DATASET_TASKS = ["detect", "segment", "pose", "obb", "classify"] as const;
export type DatasetTask = (typeof DATASET_TASKS)[number];

export const DATASET_VERSION_STATUSES = ["UPLOADING", "VALIDATING", "READY", "INVALID"] as const;
export type DatasetVersionStatus = (typeof DATASET_VERSION_STATUSES)[number];

export const datasetNameSchema = z
  .string()
  .trim()
  .min(1, "Give the dataset a name")
  .max(64, "At most 64 characters")
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "Lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit");

/** `dataset:<name>@v<N>` (also `@<N>`); `@latest` means the newest READY version at submission. */
const DATASET_REF = /^dataset:([a-z0-9][a-z0-9._-]{0,63})@(?:v?(\d{1,6})|(latest))$/;

export type DatasetRef = { name: string; version: number | "latest" };

export function parseDatasetRef(value: string): DatasetRef | null {
  const m = DATASET_REF.exec(value.trim());
  if (!m) return null;
  return { name: m[1]!, version: m[3] ? "latest" : Number(m[2]) };
}

export const isDatasetRef = (value: string) => value.trim().startsWith("dataset:");

/** The canonical name of a version: `name@vN`. */
export const datasetVersionLabel = (name: string, version: number) => `${name}@v${version}`;

/** Object keys: one blob per distinct file content per team; manifests by their hash; uploads by version. */
export const datasetBlobKey = (teamId: string, sha256: string) => `datasets/${teamId}/blobs/${sha256}`;
export const datasetManifestKey = (teamId: string, manifestHash: string) => `datasets/${teamId}/manifests/${manifestHash}.json`;
export const datasetUploadKey = (teamId: string, versionId: string, fileName: string) =>
  `datasets/${teamId}/uploads/${versionId}/${fileName.replace(/[^A-Za-z0-9._-]/g, "_").slice(-100)}`;

/** The manifest: every file of the version, sorted by path. Its sha256 (of this JSON, canonical) keys the worker cache. */
export const manifestEntrySchema = z.object({
  path: z.string().min(1).max(1024),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;
export const manifestSchema = z.object({
  version: z.literal(1),
  task: z.enum(DATASET_TASKS),
  /** Class names by id. */
  names: z.array(z.string()),
  /** For the data.yaml the worker writes: split → folder of images (relative), or the classify root's splits. */
  splits: z.record(z.string(), z.string()),
  /** pose: Ultralytics' `kpt_shape` (and `flip_idx` when given). */
  kptShape: z.tuple([z.number().int(), z.number().int()]).optional(),
  flipIdx: z.array(z.number().int()).optional(),
  files: z.array(manifestEntrySchema),
});
export type DatasetManifest = z.infer<typeof manifestSchema>;

/** One finding of validation. `line` is 1-based in a label file (or data.yaml). */
export const datasetIssueSchema = z.object({
  severity: z.enum(["error", "warning"]),
  /** A short stable code: corrupt_image, class_out_of_range, not_normalised, bad_polygon, bad_keypoints, missing_label, orphan_label, duplicate_image, empty_split, bad_yaml, names_mismatch, … */
  code: z.string().max(64),
  file: z.string().max(1024).optional(),
  line: z.number().int().min(1).optional(),
  message: z.string().max(1000),
});
export type DatasetIssue = z.infer<typeof datasetIssueSchema>;

/** Reports keep at most this many issues per code; `counts` has them all. */
export const REPORT_ISSUES_PER_CODE = 200;

export const datasetReportSchema = z.object({
  ok: z.boolean(),
  task: z.enum(DATASET_TASKS).nullable(),
  /** Issue counts by code (all of them, also those past the cap). */
  counts: z.record(z.string(), z.number().int()),
  issues: z.array(datasetIssueSchema),
  /** Set when the archive itself could not be read (not a zip/tar, unsafe paths, too large). */
  fatal: z.string().max(2000).optional(),
});
export type DatasetReport = z.infer<typeof datasetReportSchema>;

const histogram = z.object({ edges: z.array(z.number()), counts: z.array(z.number().int()) });
export const datasetStatsSchema = z.object({
  imagesPerSplit: z.record(z.string(), z.number().int()),
  /** By class id: instances (detect…) or images (classify), per split and in all. */
  instancesPerClass: z.array(
    z.object({ id: z.number().int(), name: z.string(), count: z.number().int(), perSplit: z.record(z.string(), z.number().int()) }),
  ),
  corruptImages: z.number().int(),
  formats: z.record(z.string(), z.number().int()),
  /** Image widths and heights in pixels. */
  imageWidths: histogram,
  imageHeights: histogram,
  /** Normalised box width × height (area share) and aspect (w/h) distributions; absent for classify. */
  boxAreas: histogram.optional(),
  boxAspects: histogram.optional(),
  backgroundImages: z.number().int(),
});
export type DatasetStats = z.infer<typeof datasetStatsSchema>;

/** One image's annotation for the preview (normalised coordinates, as in the label file). */
export const itemLabelSchema = z.object({
  c: z.number().int(),
  /** detect/segment/pose: cx, cy, w, h. */
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  /** segment: x1, y1, x2, y2, …; obb: the 4 corners. */
  poly: z.array(z.number()).optional(),
  /** pose: x, y[, visibility] per keypoint, flattened. */
  kpts: z.array(z.number()).optional(),
});
export type ItemLabel = z.infer<typeof itemLabelSchema>;

/** Queue job names of the dataset work (on the training queue, at a low priority). */
export const VALIDATE_DATASET_JOB = "validate-dataset";
export const validateDatasetPayloadSchema = z.object({ versionId: z.string().min(1).max(64) });
export type ValidateDatasetPayload = z.infer<typeof validateDatasetPayloadSchema>;
/** BullMQ job id of a version's validation (no `:`, not digits only). */
export const validationJobId = (versionId: string) => `validate-${versionId}`;
