import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "@wyolo/db";
import type { JobEventRow } from "@wyolo/contracts";
import { createLogger } from "../../apps/worker/src/logger.ts";
import type { LivePublisher } from "../../apps/worker/src/realtime.ts";
import { JobRecorder, RECORDING_CAUGHT_UP, RECORDING_DELAYED } from "../../apps/worker/src/training/job-recorder.ts";
import { SpillFile } from "../../apps/worker/src/training/spill-file.ts";
import { ROOT } from "./db";
import { startPgProxy } from "./pg-proxy";

// Postgres goes away for real: the recorder reaches the test's database through a TCP proxy that
// the test cuts (listener closed, open connections destroyed) and restores. The issue measured a
// 30 s outage; CI uses a shorter one: RECORDING_OUTAGE_S=30 runs it at full length.
const OUTAGE_MS = Number(process.env.RECORDING_OUTAGE_S ?? 6) * 1_000;

const pg = await startPgProxy(process.env.DATABASE_URL!);
const proxiedUrl = pg.url;
const { cut, restore } = pg;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The live side is not under test here: it records what would have been published. */
class RecordingLive {
  events: JobEventRow[] = [];
  jobUpdated() {}
  epoch() {}
  logLines() {}
  exportUpdated() {}
  artifactsChanged() {}
  event(_jobId: string, e: JobEventRow) {
    this.events.push(e);
  }
}

let db: Db; // direct, for setup and assertions
const dirs: string[] = [];
let projectId: string;
let userId: string;

beforeAll(async () => {
  db = createDb(process.env.DATABASE_URL!);
  userId = (await db.user.create({ data: { email: `outage-${Date.now()}@example.test`, name: "Outage" } })).id;
  const team = await db.team.create({ data: { name: "Outage", slug: `outage-${Date.now()}` } });
  projectId = (await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } })).id;
});

afterAll(async () => {
  await cut();
  await db.$disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function newJob(totalEpochs: number) {
  const job = await db.trainingJob.create({
    data: {
      projectId,
      createdById: userId,
      name: "outage",
      config: { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: totalEpochs } },
      status: "RUNNING",
      totalEpochs,
    },
  });
  const spillDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-outage-"));
  dirs.push(spillDir);
  return { job, spillDir };
}

function recorderFor(proxied: Db, live: RecordingLive, job: { id: string; projectId: string }, spillDir: string, lastSeq = 0) {
  return new JobRecorder(
    proxied,
    live as unknown as LivePublisher,
    { ...job, bestMetric: null, bestMetricName: null, bestEpoch: null },
    lastSeq,
    {
      flushMs: 150,
      heartbeatMs: 1_000,
      maxLogLines: 100_000,
      maxPendingLogLines: 200, // small, so the outage also exercises eviction to the spill file
      maxRetryDelayMs: 500,
      log: createLogger("silent", "recording-outage-test"),
      onCancelRequested: () => {},
      spillDir,
    },
  );
}

const epochEvent = (n: number, total: number, epochTime?: number) => ({
  v: 1 as const,
  type: "epoch" as const,
  epoch: n,
  totalEpochs: total,
  losses: { "val/box_loss": 1 / n },
  metrics: { "metrics/mAP50-95(B)": n / 100 },
  lr: { "lr/pg0": 0.01 },
  ...(epochTime == null ? {} : { epochTime }),
});

async function timeline(jobId: string) {
  return db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" }, select: { kind: true, createdAt: true } });
}

describe("recording while Postgres is away", () => {
  it(
    "keeps recording through the outage, says so on the timeline, and close() resolves only once every epoch and line is in Postgres",
    async () => {
      const EPOCHS = 20;
      const LINES = 30; // per epoch
      const { job, spillDir } = await newJob(EPOCHS);
      const proxied = createDb(proxiedUrl, { poolSize: 2 });
      const live = new RecordingLive();
      const rec = recorderFor(proxied, live, job, spillDir);
      rec.start();
      const emit = (n: number) => {
        for (let i = 1; i <= LINES; i++) rec.output("stdout", `epoch ${n} line ${i}`);
        rec.epoch(epochEvent(n, EPOCHS, 2.5));
      };

      for (let n = 1; n <= 5; n++) emit(n);
      await waitFor("the first epochs", async () => (await db.jobEpoch.count({ where: { jobId: job.id } })) === 5);

      const cutAt = new Date();
      await cut();
      // Epochs 6–15 arrive during the outage, spread over it, as a trainer keeps training.
      for (let n = 6; n <= 15; n++) {
        const started = Date.now();
        emit(n); // never blocks, never throws
        expect(Date.now() - started).toBeLessThan(200);
        await sleep(OUTAGE_MS / 12);
      }
      expect(live.events.map((e) => e.kind)).toEqual([RECORDING_DELAYED]); // published live during the outage
      const spilled = new SpillFile(spillDir).read().records;
      expect(new Set(spilled.flatMap((r) => (r.t === "epoch" ? [r.row.epoch] : [])))).toEqual(
        new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
      );
      // The trainer finishes during the outage: the rest arrives, then the run ends and close() waits.
      for (let n = 16; n <= EPOCHS; n++) emit(n);
      rec.epoch({ ...epochEvent(3, EPOCHS), losses: { "val/box_loss": null }, metrics: {} }); // re-sent without its time: merges
      let closedAt: number | null = null;
      const closing = rec.close().then(() => (closedAt = Date.now()));
      await sleep(Math.max(500, OUTAGE_MS - (Date.now() - cutAt.getTime())));
      expect(closedAt).toBeNull();
      expect(await db.jobEpoch.count({ where: { jobId: job.id } })).toBe(5);

      const restoredAt = Date.now();
      await restore();
      await closing;
      expect(closedAt!).toBeGreaterThanOrEqual(restoredAt);

      expect(await db.jobEpoch.count({ where: { jobId: job.id } })).toBe(EPOCHS);
      expect(await db.jobLog.count({ where: { jobId: job.id } })).toBe(EPOCHS * LINES);
      const seqs = (await db.jobLog.findMany({ where: { jobId: job.id }, select: { seq: true }, orderBy: { seq: "asc" } })).map(
        (l) => l.seq,
      );
      expect(seqs).toEqual(Array.from({ length: EPOCHS * LINES }, (_, i) => i + 1));
      const epoch3 = await db.jobEpoch.findUniqueOrThrow({ where: { jobId_epoch: { jobId: job.id, epoch: 3 } } });
      expect(epoch3).toMatchObject({ epochTime: 2.5, losses: { "val/box_loss": 1 / 3 }, metrics: { "metrics/mAP50-95(B)": 0.03 } });
      const row = await db.trainingJob.findUniqueOrThrow({ where: { id: job.id } });
      expect(row).toMatchObject({ currentEpoch: EPOCHS, bestMetric: 0.2, bestMetricName: "metrics/mAP50-95(B)", bestEpoch: EPOCHS });

      const events = await timeline(job.id);
      expect(events.map((e) => e.kind)).toEqual([RECORDING_DELAYED, RECORDING_CAUGHT_UP]);
      // Stamped with when the outage began (the first failed write after the cut), not when it was written.
      expect(events[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(cutAt.getTime());
      expect(events[0]!.createdAt.getTime()).toBeLessThan(cutAt.getTime() + 2_000);
      expect(events[1]!.createdAt.getTime()).toBeGreaterThanOrEqual(restoredAt);
      expect(existsSync(new SpillFile(spillDir).path)).toBe(false);
      await proxied.$disconnect();
    },
    OUTAGE_MS * 3 + 30_000,
  );

  it(
    "a worker killed mid-outage leaves a spill file; the next recorder replays it: everything recorded once",
    async () => {
      const EPOCHS = 8;
      const LINES = 40;
      const { job, spillDir } = await newJob(EPOCHS);
      const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/test/fixtures/recorder-child.ts"], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: proxiedUrl,
          JOB_ID: job.id,
          PROJECT_ID: projectId,
          SPILL_DIR: spillDir,
          EPOCHS: String(EPOCHS),
          LINES_PER_EPOCH: String(LINES),
        },
        stdio: ["pipe", "pipe", "inherit"],
      });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      const emitted = (n: number) => waitFor(`epoch ${n} emitted`, () => out.includes(`emitted ${n}\n`));
      await waitFor("the child recorder", () => out.includes("ready\n"));
      try {
        for (let n = 1; n <= 3; n++) {
          child.stdin!.write("x");
          await emitted(n);
        }
        await waitFor(
          "epochs 1-3 recorded",
          async () =>
            (await db.jobEpoch.count({ where: { jobId: job.id } })) === 3 &&
            (await db.jobLog.count({ where: { jobId: job.id } })) === 3 * LINES,
        );

        await cut();
        for (let n = 4; n <= EPOCHS; n++) {
          child.stdin!.write("x");
          await emitted(n);
          await sleep(OUTAGE_MS / 10);
        }
        // Killed once its last failed flush has put everything on disk (the spill is per flush).
        const spill = new SpillFile(spillDir);
        await waitFor("everything spilled", () => {
          const records = spill.read().records;
          return (
            records.some((r) => r.t === "epoch" && r.row.epoch === EPOCHS) &&
            records.some((r) => r.t === "log" && r.line.seq === EPOCHS * LINES)
          );
        });
      } finally {
        child.kill("SIGKILL");
      }
      await new Promise((r) => child.once("exit", r));
      await restore();

      // The next attempt: the same run directory, the line numbers Postgres knows of.
      const lastSeq = (await db.jobLog.aggregate({ where: { jobId: job.id }, _max: { seq: true } }))._max.seq ?? 0;
      expect(lastSeq).toBe(3 * LINES);
      const proxied = createDb(proxiedUrl, { poolSize: 2 });
      const live = new RecordingLive();
      const rec = recorderFor(proxied, live, job, spillDir, lastSeq);
      rec.start();
      rec.output("stdout", "the next attempt's first line");
      rec.epoch(epochEvent(EPOCHS, EPOCHS)); // re-sent without a time after the resume
      await rec.close();
      await rec.close(); // a second close has nothing left and writes nothing twice

      expect(await db.jobEpoch.count({ where: { jobId: job.id } })).toBe(EPOCHS);
      expect((await db.jobEpoch.findUniqueOrThrow({ where: { jobId_epoch: { jobId: job.id, epoch: EPOCHS } } })).epochTime).toBe(1.5);
      const lines = await db.jobLog.findMany({ where: { jobId: job.id }, orderBy: { seq: "asc" }, select: { seq: true, line: true } });
      expect(lines).toHaveLength(EPOCHS * LINES + 1);
      expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: EPOCHS * LINES + 1 }, (_, i) => i + 1));
      expect(lines.at(-1)!.line).toBe("the next attempt's first line");
      expect(new Set(lines.map((l) => l.line)).size).toBe(lines.length);
      expect((await timeline(job.id)).map((e) => e.kind)).toEqual([RECORDING_DELAYED, RECORDING_CAUGHT_UP]);
      expect(existsSync(new SpillFile(spillDir).path)).toBe(false);
      await proxied.$disconnect();
    },
    OUTAGE_MS * 3 + 30_000,
  );

  it("fills a gap from the run's results.csv without overwriting the trainer's numbers, and recomputes the best", async () => {
    const { job, spillDir } = await newJob(4);
    const proxied = createDb(proxiedUrl, { poolSize: 2 });
    const rec = recorderFor(proxied, new RecordingLive(), job, spillDir);
    rec.start();
    rec.epoch({ ...epochEvent(1, 4, 9), metrics: { "metrics/mAP50-95(B)": 0.1 } });
    rec.epoch({ ...epochEvent(2, 4), metrics: { "metrics/mAP50-95(B)": 0.2 } }); // its time was never sent
    // Epochs 3 and 4 never reached the recorder; results.csv has them (and 0.45 beats everything).
    const csv = path.join(spillDir, "results.csv");
    writeFileSync(
      csv,
      [
        "epoch,time,train/box_loss,metrics/mAP50-95(B),val/box_loss,lr/pg0",
        "1,10,1.5,0.999,1.4,0.01",
        "2,21,1.4,0.2,1.3,0.008",
        "3,33,1.3,0.45,1.2,0.006",
        "4,44.5,1.2,0.4,1.1,0.004",
      ].join("\n"),
    );
    await rec.fillFromResultsCsv(csv);
    await rec.fillFromResultsCsv(path.join(spillDir, "absent.csv")); // nothing to fill from: no error
    await rec.close();
    const epochs = await db.jobEpoch.findMany({ where: { jobId: job.id }, orderBy: { epoch: "asc" } });
    expect(epochs.map((e) => [e.epoch, e.epochTime, (e.metrics as Record<string, number>)["metrics/mAP50-95(B)"]])).toEqual([
      [1, 9, 0.1], // the trainer's numbers stay
      [2, 11, 0.2], // a missing time is filled
      [3, 12, 0.45],
      [4, 11.5, 0.4],
    ]);
    expect(epochs[3]!.losses).toEqual({ "train/box_loss": 1.2, "val/box_loss": 1.1 });
    expect(await db.trainingJob.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      currentEpoch: 4,
      bestMetric: 0.45,
      bestEpoch: 3,
      bestMetricName: "metrics/mAP50-95(B)",
    });
    await proxied.$disconnect();
  });
});
