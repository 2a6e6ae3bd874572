import { z } from "zod";
import type { ApiOperation } from "../operations";

const PLOT_KINDS = ["matrix", "curve", "results", "labels", "batch", "other"] as const;

export const plotsAnswerSchema = z
  .object({
    plots: z.array(
      z.object({
        id: z.string().describe("The artifact's id"),
        name: z.string().describe("Path inside the run, e.g. `confusion_matrix.png`, `val_batch0_pred.jpg`"),
        kind: z.enum(PLOT_KINDS).describe("Gallery group: confusion matrices, curves, results, label plots, sample batches, others"),
        size: z.int(),
        updatedAt: z.iso.datetime({ offset: true }),
        url: z.string().describe("Presigned GET link (inline image), valid until `expiresAt`"),
      }),
    ),
    expiresAt: z.iso.datetime({ offset: true }).nullable().describe("When the links stop working (at most 5 minutes); null without plots"),
  })
  .meta({ id: "JobPlots" });

/** The job-page routes (one entry per route file and method), with their answer schemas beside them. */
export const JOB_PAGE_OPERATIONS: ApiOperation[] = [
  {
    id: "listJobPlots",
    method: "get",
    path: "/jobs/{jobId}/plots",
    tag: "Artifacts",
    summary: "A job's plot images (confusion matrix, PR/F1/P/R curves, labels, validation batches) with short-lived links",
    description:
      "PNG and JPEG artifacts of the job, confusion matrices and curves first, sample batches last, with presigned GET links valid " +
      "for at most 5 minutes (less when DOWNLOAD_URL_TTL_SECONDS is shorter). Readers of the job's project; another team's job is 404. " +
      "Not audited (viewing plots is reading the job); downloads through the artifact route are.",
    auth: "user",
    ok: [{ status: 200, description: "The plots", schema: plotsAnswerSchema }],
    errors: [503],
  },
];
