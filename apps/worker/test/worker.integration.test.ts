import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string; ready: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/index.ts"], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"worker ready"')) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", () => reject(new Error(`worker exited before it was ready:\n${out}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, ready, exited };
}

describe("worker process", () => {
  const queueName = `test-training-${randomBytes(4).toString("hex")}`;
  const connection = { url: REDIS_URL };
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await Promise.all([queue.close(), events.close()]);
  });

  it("refuses to start on a bad variable, naming it", async () => {
    const { exited, output } = startWorker({ WORKER_CONCURRENCY: "lots" });
    expect(await exited).toBe(1);
    expect(output()).toContain("WORKER_CONCURRENCY");
  });

  it("boots, fails a job of unknown kind without retrying it, and exits cleanly on SIGTERM", async () => {
    const worker = startWorker({ TRAINING_QUEUE: queueName, WORKER_NAME: "it-worker" });
    await worker.ready;
    await events.waitUntilReady();
    const job = await queue.add("no-such-kind", { x: 1 }, { jobId: `job-${randomBytes(4).toString("hex")}`, attempts: 3 });
    const failed = new Promise<string>((resolve) => events.on("failed", ({ jobId, failedReason }) => jobId === job.id && resolve(failedReason)));
    expect(await failed).toContain('Unknown job kind "no-such-kind"');
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);

    const started = Date.now();
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(worker.output()).toContain('"stopped"');
  });
});
