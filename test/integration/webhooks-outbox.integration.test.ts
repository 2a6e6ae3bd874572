import { beforeAll, describe, expect, it } from "vitest";
import { createLifecycle, newId } from "@wyolo/db";
import { db } from "@/server/db";
import { createTeamWith, createUser } from "./helpers";

// The outbox side of the lifecycle: which changes write deliveries, for which webhooks, in the
// change's own transaction.
const queued: string[][] = [];
const lifecycle = createLifecycle({
  db,
  publish: () => {},
  log: { warn: () => {}, error: () => {}, debug: () => {} },
  onWebhookDeliveries: (ids) => queued.push(ids),
});

let teamId: string;
let projectId: string;
let userId: string;
const hooks: Record<string, string> = {};

async function hook(name: string, events: string[], enabled = true, team = teamId) {
  const row = await db.webhook.create({
    data: { teamId: team, name, kind: "GENERIC", urlEncrypted: "x", urlDisplay: "x", events, enabled },
  });
  return row.id;
}

const job = (over: { sweepId?: string; status?: "QUEUED" | "RUNNING" } = {}) =>
  db.trainingJob.create({
    data: {
      projectId,
      createdById: userId,
      name: "j",
      config: {},
      model: "yolo11n.pt",
      totalEpochs: 1,
      status: over.status ?? "RUNNING",
      sweepId: over.sweepId,
    },
  });

const deliveries = (webhookId: string) => db.webhookDelivery.findMany({ where: { webhookId }, orderBy: { createdAt: "asc" } });

beforeAll(async () => {
  const user = await createUser();
  userId = user.id;
  teamId = (await createTeamWith([{ userId, role: "OWNER" }])).id;
  projectId = (await db.project.create({ data: { teamId, name: "P", slug: "p" } })).id;
  const otherTeam = (await createTeamWith([{ userId, role: "OWNER" }])).id;
  hooks.all = await hook("all", ["job.succeeded", "job.failed", "job.cancelled", "export.succeeded", "export.failed", "sweep.completed"]);
  hooks.failedOnly = await hook("failed only", ["job.failed"]);
  hooks.disabled = await hook("disabled", ["job.succeeded", "job.failed"], false);
  hooks.otherTeam = await hook("other team", ["job.succeeded", "job.failed"], true, otherTeam);
});

describe("webhook outbox rows written by the lifecycle", () => {
  it("a job's end: one row per enabled, subscribed webhook of its team, queued after the commit", async () => {
    const j = await job();
    const res = await lifecycle.transition({ kind: "training", id: j.id, to: "FAILED", cause: "worker", data: { failureReason: "boom" } });
    expect(res.applied).toBe(true);
    const [all, failedOnly] = [await deliveries(hooks.all!), await deliveries(hooks.failedOnly!)];
    expect(all).toHaveLength(1);
    expect(failedOnly).toHaveLength(1);
    expect(await deliveries(hooks.disabled!)).toHaveLength(0);
    expect(await deliveries(hooks.otherTeam!)).toHaveLength(0);
    expect(all[0]).toMatchObject({ event: "job.failed", status: "PENDING", attempts: 0 });
    expect(all[0]!.payload).toMatchObject({
      event: "job.failed",
      job: { id: j.id, failureReason: "boom" },
      links: { job: `/t/${(all[0]!.payload as { team: { slug: string } }).team.slug}/p/p/jobs/${j.id}` },
    });
    // Both rows carry the same event id: one event, two webhooks.
    expect((all[0]!.payload as { id: string }).id).toBe((failedOnly[0]!.payload as { id: string }).id);
    expect(queued.at(-1)!.sort()).toEqual([all[0]!.id, failedOnly[0]!.id].sort());
  });

  it("a change that is not applied writes nothing; intermediate states announce nothing", async () => {
    const j = await job({ status: "QUEUED" });
    const before = await db.webhookDelivery.count();
    expect((await lifecycle.transition({ kind: "training", id: j.id, to: "SUCCEEDED", cause: "worker" })).applied).toBe(false);
    expect((await lifecycle.transition({ kind: "training", id: j.id, to: "STARTING", cause: "worker" })).applied).toBe(true);
    expect(await db.webhookDelivery.count()).toBe(before);
  });

  it("a sweep's trials announce nothing; the sweep's completion does", async () => {
    const sweep = await db.sweep.create({
      data: {
        projectId,
        createdById: userId,
        name: "lr",
        status: "RUNNING",
        config: {},
        settings: {},
        nTrials: 1,
        parallel: 1,
        bestValue: 0.7,
      },
    });
    const trial = await job({ sweepId: sweep.id });
    const before = await db.webhookDelivery.count();
    expect((await lifecycle.transition({ kind: "training", id: trial.id, to: "SUCCEEDED", cause: "worker" })).applied).toBe(true);
    expect(await db.webhookDelivery.count()).toBe(before);
    expect((await lifecycle.transitionSweep({ id: sweep.id, to: "COMPLETED", cause: "worker" })).applied).toBe(true);
    const rows = await db.webhookDelivery.findMany({ where: { event: "sweep.completed" } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toMatchObject({ sweep: { id: sweep.id, name: "lr", bestValue: 0.7 } });
  });

  it("an export's end", async () => {
    const j = await job();
    await lifecycle.transition({ kind: "training", id: j.id, to: "SUCCEEDED", cause: "worker" });
    const exp = await db.modelExport.create({
      data: { id: newId(), jobId: j.id, format: "onnx", options: {}, variant: "onnx", status: "RUNNING", createdById: userId },
    });
    expect((await lifecycle.transition({ kind: "export", id: exp.id, to: "SUCCEEDED", cause: "worker" })).applied).toBe(true);
    const rows = await db.webhookDelivery.findMany({ where: { event: "export.succeeded" } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toMatchObject({ export: { id: exp.id, format: "onnx", status: "SUCCEEDED" }, job: { id: j.id } });
  });
});
