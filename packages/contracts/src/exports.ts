import { z } from "zod";
import { idSchema } from "./schemas.ts";
import type { JobStatus } from "./jobs.ts";

/**
 * Model export: a finished job's best.pt converted by Ultralytics to another format, as a queue
 * job of its own. The formats and the options each accepts follow Ultralytics' export table
 * (`ultralytics.engine.exporter.export_formats`, 8.3); which formats a worker can produce
 * depends on what its image has installed, and workers report that list.
 */
export const EXPORT_FORMATS = [
  "torchscript",
  "onnx",
  "openvino",
  "engine",
  "coreml",
  "saved_model",
  "pb",
  "tflite",
  "edgetpu",
  "tfjs",
  "paddle",
  "mnn",
  "ncnn",
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_OPTIONS = ["imgsz", "batch", "half", "int8", "dynamic", "opset"] as const;
export type ExportOption = (typeof EXPORT_OPTIONS)[number];

/** FP16 ONNX and TorchScript exports need a GPU: on a CPU Ultralytics quietly exports FP32. */
export const HALF_NEEDS_GPU: readonly ExportFormat[] = ["onnx", "torchscript"];

/** Whether an export must run on a GPU worker. */
export function exportNeedsGpu(o: Pick<ExportOptions, "format" | "half">): boolean {
  return !!EXPORT_FORMAT_INFO[o.format]?.gpu || (!!o.half && HALF_NEEDS_GPU.includes(o.format));
}

export const EXPORT_FORMAT_INFO: Record<ExportFormat, { label: string; options: readonly ExportOption[]; gpu?: true }> = {
  torchscript: { label: "TorchScript", options: ["imgsz", "batch", "half", "dynamic"] },
  onnx: { label: "ONNX", options: ["imgsz", "batch", "half", "dynamic", "opset"] },
  openvino: { label: "OpenVINO", options: ["imgsz", "batch", "half", "int8", "dynamic"] },
  engine: { label: "TensorRT", options: ["imgsz", "batch", "half", "int8", "dynamic"], gpu: true },
  coreml: { label: "CoreML", options: ["imgsz", "batch", "half", "int8"] },
  saved_model: { label: "TensorFlow SavedModel", options: ["imgsz", "batch", "int8"] },
  pb: { label: "TensorFlow GraphDef", options: ["imgsz", "batch"] },
  tflite: { label: "TensorFlow Lite", options: ["imgsz", "batch", "half", "int8"] },
  edgetpu: { label: "TensorFlow Edge TPU", options: ["imgsz"] },
  tfjs: { label: "TensorFlow.js", options: ["imgsz", "batch", "half", "int8"] },
  paddle: { label: "PaddlePaddle", options: ["imgsz", "batch"] },
  mnn: { label: "MNN", options: ["imgsz", "batch", "half", "int8"] },
  ncnn: { label: "NCNN", options: ["imgsz", "batch", "half"] },
};

export const EXPORT_JOB_NAME = "export";
/** Exports run after every training waiting in the queue (BullMQ: larger = later). */
export const EXPORT_BULLMQ_PRIORITY = 20;
export const exportJobPayloadSchema = z.object({ exportId: idSchema });
export type ExportJobPayload = z.infer<typeof exportJobPayloadSchema>;

export const exportOptionsSchema = z
  .object({
    format: z.enum(EXPORT_FORMATS, { error: `One of: ${EXPORT_FORMATS.join(", ")}` }),
    imgsz: z
      .int("A whole number")
      .min(32, "At least 32")
      .max(4096, "At most 4096")
      .refine((n) => n % 32 === 0, "A multiple of 32")
      .optional(),
    batch: z.int("A whole number").min(1, "At least 1").max(256, "At most 256").optional(),
    half: z.boolean().optional(),
    int8: z.boolean().optional(),
    dynamic: z.boolean().optional(),
    opset: z.int("A whole number").min(7, "At least 7").max(22, "At most 22").optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const allowed = EXPORT_FORMAT_INFO[o.format]?.options ?? [];
    for (const option of EXPORT_OPTIONS) {
      if (o[option] !== undefined && option !== "imgsz" && !allowed.includes(option)) {
        ctx.addIssue({
          code: "custom",
          path: [option],
          message: `Not supported for ${EXPORT_FORMAT_INFO[o.format].label} (it accepts ${allowed.join(", ")})`,
        });
      }
    }
    if (o.half && o.int8) ctx.addIssue({ code: "custom", path: ["int8"], message: "Choose half (FP16) or int8, not both" });
  });
export type ExportOptions = z.infer<typeof exportOptionsSchema>;

/**
 * The artifact name an export's output gets on its job: one per format and option set, so the
 * same request made twice lands on the same name, and different variants do not overwrite each other.
 */
export function exportVariant(o: ExportOptions): string {
  const parts: string[] = [o.format];
  if (o.half) parts.push("fp16");
  if (o.int8) parts.push("int8");
  if (o.dynamic) parts.push("dynamic");
  if (o.imgsz) parts.push(String(o.imgsz));
  if (o.batch && o.batch !== 1) parts.push(`b${o.batch}`);
  if (o.opset) parts.push(`opset${o.opset}`);
  return parts.join("-");
}

export type ExportSummary = {
  id: string;
  jobId: string;
  projectId: string;
  format: ExportFormat;
  options: ExportOptions;
  status: JobStatus;
  workerName: string | null;
  failureReason: string | null;
  artifact: { id: string; name: string; size: number; sha256: string } | null;
  createdBy: { id: string; name: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};
