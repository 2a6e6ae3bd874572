import "server-only";
import { Queue } from "bullmq";
import { webhookQueueName } from "@wyolo/contracts";
import { enqueueDeliveries } from "@wyolo/db/webhook-outbox";
import { env } from "@/env";
import { redis } from "../redis";
import { logger } from "../logger";

const globalForQueue = globalThis as unknown as { wyoloWebhookQueue?: Queue };

/** The workers' delivery queue (`<TRAINING_QUEUE>-webhooks`); the web app only adds to it. */
export const webhookQueue: Queue =
  globalForQueue.wyoloWebhookQueue ??
  (() => {
    const queue = new Queue(webhookQueueName(env.TRAINING_QUEUE), { connection: redis });
    queue.on("error", (err) => logger.warn({ err: { message: err.message } }, "webhook queue error"));
    return queue;
  })();
globalForQueue.wyoloWebhookQueue = webhookQueue;

/**
 * Queues new deliveries (attempt 0). Best effort: a row whose entry is not added (Redis away) is
 * found by the workers' scan of due rows within WEBHOOK_SCAN_INTERVAL_MS.
 */
export async function queueNewDeliveries(ids: string[]): Promise<void> {
  if (!ids.length) return;
  await enqueueDeliveries(
    webhookQueue,
    ids.map((id) => ({ id, attempts: 0 })),
  ).catch((err: Error) => logger.warn({ err: { message: err.message }, ids }, "webhook deliveries not queued (the workers' scan will)"));
}
