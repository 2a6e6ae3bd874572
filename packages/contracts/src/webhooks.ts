import { z } from "zod";
import type { ModelVersionWebhook } from "./models.ts";

export const WEBHOOK_EVENTS = [
  "job.succeeded",
  "job.failed",
  "job.cancelled",
  "export.succeeded",
  "export.failed",
  "sweep.completed",
  "model.version_created",
] as const;
export const webhookEventSchema = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const SIGNATURE_HEADER = "wyolo-signature";
export const EVENT_HEADER = "wyolo-event";
export const DELIVERY_HEADER = "wyolo-delivery";
/** Receivers should refuse a signature older than this (replay window). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Retries with exponential backoff stop after this long; the delivery is then FAILED. */
export const DELIVERY_RETRY_WINDOW_MS = 24 * 3600_000;
/** Queue of deliveries: `<TRAINING_QUEUE>-webhooks`, consumed by the workers. */
export const webhookQueueName = (trainingQueue: string) => `${trainingQueue}-webhooks`;
export const WEBHOOK_DELIVER_JOB = "deliver-webhook";

/** The JSON body every generic webhook receives. */
export type WebhookPayload = {
  id: string;
  event: WebhookEvent;
  createdAt: string;
  team: { id: string; slug: string; name: string };
  project?: { id: string; slug: string; name: string };
  job?: {
    id: string;
    name: string;
    status: string;
    task: string;
    model: string;
    bestMetric: number | null;
    bestMetricName: string | null;
    bestEpoch: number | null;
    failureClass: string | null;
    failureReason: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  };
  export?: { id: string; jobId: string; format: string; status: string; failureReason: string | null };
  sweep?: { id: string; name: string; status: string; bestValue: number | null; bestJobId: string | null };
  /** `model.version_created`: the new version of the project's registered model. */
  model?: ModelVersionWebhook;
  /** Absolute links into the dashboard (built from NEXTAUTH_URL). */
  links: Record<string, string>;
};

const webhookFields = {
  name: z.string().trim().min(1, "Name the webhook").max(80),
  kind: z.enum(["GENERIC", "SLACK"]),
  url: z
    .string()
    .trim()
    .max(2000)
    .url("Enter an http(s) URL")
    .refine((u) => /^https?:\/\//i.test(u), "Enter an http(s) URL"),
  events: z.array(webhookEventSchema).min(1, "Choose at least one event"),
  enabled: z.boolean(),
};
export const createWebhookSchema = z.object({
  ...webhookFields,
  kind: webhookFields.kind.default("GENERIC"),
  enabled: webhookFields.enabled.default(true),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;
/** An edit changes only what it names: no defaults here (a toggle must not turn Slack into GENERIC). */
export const updateWebhookSchema = z.object(webhookFields).partial();
