import { Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { webhookQueueName } from "@wyolo/contracts";
import { deliveryJobSchema, dueDeliveries, enqueueDeliveries } from "@wyolo/db/webhook-outbox";
import type { WorkerEnv } from "../env.ts";
import { deliverWebhook, type DeliveryDeps } from "./deliver-webhook.ts";

/** Attempts in flight per worker process: they wait on the network, not on a GPU. */
const CONCURRENCY = 8;
const SCAN_BATCH = 200;

/**
 * Webhook deliveries in this worker process: a BullMQ Worker on `<TRAINING_QUEUE>-webhooks` runs
 * attempts (deliver-webhook.ts), and a scan queues the PENDING rows that are due — retries after
 * their backoff, and rows whose queue entry never came or was lost with Redis. After a commit the
 * lifecycle queues its rows at once (`enqueue`).
 */
export function startWebhookDeliveries(opts: { env: WorkerEnv; deps: Omit<DeliveryDeps, "retry" | "timeoutMs">; connection: Redis }) {
  const { env, deps, connection } = opts;
  const { log } = deps;
  const name = webhookQueueName(env.TRAINING_QUEUE);
  const queue = new Queue(name, { connection });
  queue.on("error", (err: Error) => log.warn({ err: { message: err.message } }, "webhook queue error"));
  const full: DeliveryDeps = {
    ...deps,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    retry: { baseMs: env.WEBHOOK_RETRY_BASE_MS, maxMs: env.WEBHOOK_RETRY_MAX_MS, windowMs: env.WEBHOOK_RETRY_WINDOW_MS },
  };
  const worker = new Worker(
    name,
    async (job) => {
      const parsed = deliveryJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError("not a webhook delivery entry");
      return deliverWebhook(parsed.data.deliveryId, parsed.data.attempts, full);
    },
    { connection, concurrency: CONCURRENCY, autorun: false },
  );
  worker.on("error", (err) => log.error({ err: { message: err.message } }, "webhook worker error"));
  worker.on("failed", (job, err) => job && log.warn({ webhookJob: job.id, reason: err.message }, "webhook attempt errored"));

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let scanning: Promise<void> | undefined;
  const scan = async () => {
    const due = await dueDeliveries(deps.db, new Date(), SCAN_BATCH);
    if (due.length) await enqueueDeliveries(queue, due);
  };
  const loop = () => {
    scanning = scan()
      .catch((err: Error) => log.warn({ err: { message: err.message } }, "webhook scan failed"))
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(loop, env.WEBHOOK_SCAN_INTERVAL_MS);
        timer.unref();
      });
  };

  return {
    async start() {
      await worker.waitUntilReady();
      void worker.run();
      loop();
    },
    /** After a lifecycle commit: queue the new rows now. */
    enqueue: (ids: string[]) =>
      void enqueueDeliveries(
        queue,
        ids.map((id) => ({ id, attempts: 0 })),
      ).catch((err: Error) => log.warn({ err: { message: err.message }, ids }, "webhook deliveries not queued (the scan will)")),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await scanning;
      await worker.close();
      await queue.close();
    },
  };
}
