import { randomBytes } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { startWorker } from "../../../test/integration/worker-harness";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("worker process", () => {
  // The file's own queue (per-file-setup), so its worker's report is cleared with the file.
  const queueName = process.env.TRAINING_QUEUE ?? `test-training-${randomBytes(4).toString("hex")}`;
  const connection = { url: REDIS_URL };
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await Promise.all([queue.close(), events.close()]);
  });

  it("refuses to start on a bad variable, naming it", async () => {
    const { exited, output } = startWorker("bad-env", { WORKER_CONCURRENCY: "lots" });
    expect(await exited).toBe(1);
    expect(output()).toContain("WORKER_CONCURRENCY");
  });

  it("boots, fails a job of unknown kind without retrying it, and exits cleanly on SIGTERM", async () => {
    const worker = startWorker("it-worker", { TRAINING_QUEUE: queueName });
    await worker.ready;
    await events.waitUntilReady();
    const job = await queue.add("no-such-kind", { x: 1 }, { jobId: `job-${randomBytes(4).toString("hex")}`, attempts: 3 });
    const failed = new Promise<string>((resolve) =>
      events.on("failed", ({ jobId, failedReason }) => jobId === job.id && resolve(failedReason)),
    );
    expect(await failed).toContain('Unknown job kind "no-such-kind"');
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);

    const started = Date.now();
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(worker.output()).toContain('"stopped"');
  });
});
