import "server-only";
import { Queue } from "bullmq";
import { sweepQueueName } from "@wyolo/contracts";
import { env } from "@/env";
import { redis } from "./redis";
import { logger } from "./logger";

const globalForQueue = globalThis as unknown as { wyoloTrainingQueue?: Queue; wyoloSweepQueue?: Queue };

function create(name: string, label: string): Queue {
  // Shares the web app's Redis client (no offline queue), so an outage fails fast.
  const queue = new Queue(name, { connection: redis });
  queue.on("error", (err) => logger.warn({ err: { message: err.message } }, `${label} queue error`));
  return queue;
}

export const trainingQueue: Queue = globalForQueue.wyoloTrainingQueue ?? create(env.TRAINING_QUEUE, "training");
globalForQueue.wyoloTrainingQueue = trainingQueue;

/** The sweeps' advance steps, next to the training queue so they never wait for a GPU slot. */
export const sweepQueue: Queue = globalForQueue.wyoloSweepQueue ?? create(sweepQueueName(env.TRAINING_QUEUE), "sweep");
globalForQueue.wyoloSweepQueue = sweepQueue;
