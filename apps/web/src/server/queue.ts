import "server-only";
import { Queue } from "bullmq";
import { env } from "@/env";
import { redis } from "./redis";
import { logger } from "./logger";

const globalForQueue = globalThis as unknown as { wyoloTrainingQueue?: Queue };

function create(): Queue {
  // Shares the web app's Redis client (no offline queue), so an outage fails fast.
  const queue = new Queue(env.TRAINING_QUEUE, { connection: redis });
  queue.on("error", (err) => logger.warn({ err: { message: err.message } }, "training queue error"));
  return queue;
}

export const trainingQueue: Queue = globalForQueue.wyoloTrainingQueue ?? create();
globalForQueue.wyoloTrainingQueue = trainingQueue;
