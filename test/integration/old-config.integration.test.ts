import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLevel } from "@wyolo/contracts";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// The old service's `logging.level`, through a real worker: the fake trainer (`eachLevel`) sends a
// `log` event at each level and plain, warning- and error-looking lines on stdout and stderr.
const PROBES = {
  trainerDebug: "[debug] level-probe trainer debug",
  trainerInfo: "[info] level-probe trainer info",
  trainerWarning: "[warning] level-probe trainer warning",
  trainerError: "[error] level-probe trainer error",
  stdoutPlain: "level-probe stdout plain",
  stdoutWarning: "WARNING ⚠️ level-probe stdout warning",
  stdoutError: "level-probe stdout RuntimeError: an error line",
  stderrPlain: "level-probe stderr plain",
  stderrWarning: "level-probe stderr UserWarning: a warning line",
};
type Probe = keyof typeof PROBES;
const ALL = Object.keys(PROBES) as Probe[];
const EXPECTED: [LogLevel | "none", Probe[]][] = [
  ["none", ALL],
  ["DEBUG", ALL],
  ["INFO", ALL.filter((p) => p !== "trainerDebug")],
  ["WARNING", ["trainerWarning", "trainerError", "stdoutWarning", "stdoutError", "stderrPlain", "stderrWarning"]],
  ["ERROR", ["trainerError", "stdoutError", "stderrPlain"]],
];

let cookie: string;
let projectId: string;
let worker: WorkerHandle;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Levels", slug: "levels" } })).id;
  cookie = await sessionCookie(member);
  worker = startWorker("levels");
  await worker.ready;
});

afterAll(async () => {
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
});

describe("a job's logging.level decides what its log keeps", () => {
  it.each(EXPECTED)("level %s", async (level, kept) => {
    const config = {
      model: "yolov8n.yaml",
      train: { data: "shapes/data.yaml", epochs: 1, imgsz: 64, batch: 4 },
      metadata: { fake: { eachLevel: true } },
      ...(level === "none" ? {} : { logging: { level: level.toLowerCase(), format: "json" } }),
    };
    const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name: `level ${level}`, config } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.job.id as string;
    const done = await waitFor(async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id }, select: { status: true } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    });
    expect(done.status).toBe("SUCCEEDED");
    const lines = await db.jobLog.findMany({ where: { jobId: id, line: { contains: "level-probe" } }, orderBy: { seq: "asc" } });
    const probes = ALL.filter((p) => lines.some((l) => l.line === PROBES[p]));
    expect(probes.sort()).toEqual([...kept].sort());
    // The rest of the run is unaffected: the epoch is recorded whatever the level.
    expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(1);
  });
});
