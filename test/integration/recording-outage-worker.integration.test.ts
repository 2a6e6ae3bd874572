import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startPgProxy } from "./pg-proxy";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// End to end: a real worker process reaches Postgres only through a proxy the test cuts mid-run
// (the web side and these assertions use the database directly). The trainer keeps training and
// finishes during the outage; the job may end SUCCEEDED only once every epoch and line is stored.
// The outage lasts 30 s, as measured in production-like runs; RECORDING_OUTAGE_S sets another length.
const OUTAGE_MS = Number(process.env.RECORDING_OUTAGE_S ?? 30) * 1_000;
const EPOCHS = 10;
const SPAM = 25; // lines per epoch the fake trainer prints

const pg = await startPgProxy(process.env.DATABASE_URL!);
let worker: WorkerHandle;
let cookie: string;
let projectId: string;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Outage", slug: "outage" } })).id;
  cookie = await sessionCookie(member);
  worker = startWorker("outage", { DATABASE_URL: pg.url, WORKER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "wyolo-outage-worker-")) });
  await worker.ready;
});

afterAll(async () => {
  await pg.restore().catch(() => {}); // a failed test may leave it cut; the worker must be able to stop
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
  await pg.cut();
});

describe("Postgres away while a real worker trains", () => {
  it(
    "trains on, and the job ends SUCCEEDED only after every epoch and log line is recorded",
    async () => {
      const res = await call(jobsRoute.POST, {
        cookie,
        params: { projectId },
        body: {
          name: "through an outage",
          config: {
            model: "yolov8n.yaml",
            train: { data: "shapes/data.yaml", epochs: EPOCHS, imgsz: 64, batch: 4 },
            metadata: { fake: { delayMs: Math.round(OUTAGE_MS / 12), spamLines: SPAM } },
          },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const id = res.body.job.id as string;
      await waitFor(async () => (await db.jobEpoch.count({ where: { jobId: id } })) >= 2, 30_000, "two epochs recorded");

      await pg.cut();
      const cutAt = Date.now();
      // While it is away the job stays RUNNING, even once its trainer has finished.
      while (Date.now() - cutAt < OUTAGE_MS) {
        expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).status).toBe("RUNNING");
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(worker.output()).toContain("flush failed");
      expect(worker.output()).toContain('"trainer exited"'); // it finished during the outage
      const restoredAt = Date.now();
      await pg.restore();

      const done = await waitFor(
        async () => {
          const j = await db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });
          // Counted in the same instant the final state is seen: nothing may arrive after it.
          const [epochs, spam] = await Promise.all([
            db.jobEpoch.count({ where: { jobId: id } }),
            db.jobLog.count({ where: { jobId: id, line: { startsWith: "epoch ", contains: " line " } } }),
          ]);
          return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && { ...j, epochs, spam };
        },
        30_000,
        "the job to end",
      );
      expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
      expect(done.epochs).toBe(EPOCHS);
      expect(done.spam).toBe(EPOCHS * SPAM);
      expect(await db.jobLog.count({ where: { jobId: id, line: { endsWith: "done" }, NOT: { line: { contains: "line" } } } })).toBe(EPOCHS);
      expect(done).toMatchObject({ currentEpoch: EPOCHS, bestEpoch: EPOCHS, bestMetricName: "metrics/mAP50-95(B)" });
      const kinds = done.events.map((e) => e.kind);
      expect(kinds).toContain("recording_delayed");
      expect(kinds.indexOf("recording_caught_up")).toBeGreaterThan(kinds.indexOf("recording_delayed"));
      expect(kinds.indexOf("succeeded")).toBeGreaterThan(kinds.indexOf("recording_caught_up"));
      const delayed = done.events.find((e) => e.kind === "recording_delayed")!;
      expect(delayed.createdAt.getTime()).toBeGreaterThanOrEqual(cutAt - 1_000);
      expect(delayed.createdAt.getTime()).toBeLessThan(restoredAt);
      expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(restoredAt);
    },
    OUTAGE_MS * 2 + 90_000,
  );
});
