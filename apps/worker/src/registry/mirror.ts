import path from "node:path";
import type { Db } from "@wyolo/db";
import { versionTags } from "@wyolo/db";
import type { RegistryCallPayload } from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import { MlflowError, type MlflowClient } from "../mlflow/client.ts";

type Claimed = { id: bigint; modelId: string; kind: string; payload: RegistryCallPayload; attempts: number };
export type MirrorOptions = {
  intervalMs: number;
  maxBackoffMs: number;
  /** How long a new version waits for its job's MLflow run (its tracking calls still queued) before it is sent without it. */
  runWaitMs: number;
  /** A claimed call is another worker's to retry once this passes (its worker died mid-call). */
  leaseMs: number;
  /** Where object-store sources point when a job has no MLflow run. */
  bucket: string;
};

/** Not a failure: the call waits (for the job's run) and is tried again later. */
class Deferred extends Error {}

/**
 * Mirrors the in-app model registry to MLflow: any worker with MLFLOW_TRACKING_URI sends the
 * due `RegistryCall` rows, the oldest of each model first (a model's calls never overtake each
 * other), claimed with FOR UPDATE SKIP LOCKED plus a lease, so two workers never send the same
 * call at once and a dead worker's claim lapses. A call leaves the table only once MLflow took it
 * (or refused it for good, logged): nothing is lost while MLflow is away, the calls wait with
 * exponential backoff.
 */
export class RegistryMirror {
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private backoffMs = 0;
  private retryAt = 0;
  /** Counters since start, for logs and tests. */
  readonly counts = { sent: 0, failed: 0, dropped: 0, deferred: 0 };

  constructor(
    private readonly db: Db,
    private readonly client: MlflowClient,
    private readonly log: Logger,
    private readonly opts: MirrorOptions,
  ) {}

  start() {
    this.timer = setInterval(() => void this.drain(), this.opts.intervalMs);
  }

  async stop(timeoutMs: number) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.race([this.drain(), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  drain(): Promise<void> {
    return (this.draining ??= this.doDrain()
      .catch((err: Error) => this.log.warn({ err: { message: err.message } }, "registry mirror round failed"))
      .finally(() => (this.draining = null)));
  }

  private async claim(): Promise<Claimed[]> {
    return this.db.$queryRaw<Claimed[]>`
      UPDATE "RegistryCall" SET "attempts" = "attempts" + 1,
        "nextAttemptAt" = now() + make_interval(secs => ${this.opts.leaseMs / 1000})
      WHERE "id" IN (
        SELECT c."id" FROM "RegistryCall" c
        WHERE c."nextAttemptAt" <= now()
          AND NOT EXISTS (SELECT 1 FROM "RegistryCall" e WHERE e."modelId" = c."modelId" AND e."id" < c."id")
        ORDER BY c."id" LIMIT 20
        FOR UPDATE SKIP LOCKED)
      RETURNING "id", "modelId", "kind", "payload", "attempts"`;
  }

  private async doDrain() {
    if (Date.now() < this.retryAt) return;
    for (let round = 0; round < 50; round++) {
      const calls = await this.claim();
      if (!calls.length) break;
      for (const call of calls) {
        const outcome = await this.attempt(call);
        if (outcome === "unavailable") {
          // MLflow itself is away: the other models' calls would fail too; they keep their place.
          await this.release(calls.filter((c) => c.id !== call.id));
          this.backoffMs = Math.min(this.opts.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 500);
          this.retryAt = Date.now() + this.backoffMs;
          return;
        }
      }
      this.backoffMs = 0;
    }
  }

  /** Claimed calls not tried this round: due again at once, their attempt not counted. */
  private async release(calls: Claimed[]) {
    if (!calls.length) return;
    await this.db.registryCall.updateMany({
      where: { id: { in: calls.map((c) => c.id) } },
      data: { attempts: { decrement: 1 }, nextAttemptAt: new Date() },
    });
  }

  private async attempt(call: Claimed): Promise<"done" | "later" | "unavailable"> {
    try {
      await this.send(call);
      await this.db.registryCall.deleteMany({ where: { id: call.id } });
      this.counts.sent++;
      return "done";
    } catch (err) {
      if (err instanceof Deferred) {
        this.counts.deferred++;
        await this.db.$executeRaw`
          UPDATE "RegistryCall" SET "attempts" = "attempts" - 1, "nextAttemptAt" = now() + interval '2 seconds' WHERE "id" = ${call.id}`;
        return "later";
      }
      if (err instanceof MlflowError && err.permanent) {
        this.counts.dropped++;
        this.log.warn(
          { modelId: call.modelId, kind: call.kind, code: err.code, message: err.message },
          "MLflow refused a registry call; dropped",
        );
        await this.db.registryCall.deleteMany({ where: { id: call.id } });
        return "done";
      }
      this.counts.failed++;
      const message = (err as Error).message.slice(0, 500);
      const backoffMs = Math.min(this.opts.maxBackoffMs, 500 * 2 ** Math.min(20, call.attempts - 1));
      await this.db.$executeRaw`
        UPDATE "RegistryCall" SET "lastError" = ${message}, "nextAttemptAt" = now() + make_interval(secs => ${backoffMs / 1000})
        WHERE "id" = ${call.id}`;
      this.log.debug({ modelId: call.modelId, kind: call.kind, err: { message } }, "registry call not sent; will retry");
      return !(err instanceof MlflowError) || err.status >= 500 || err.status === 429 ? "unavailable" : "later";
    }
  }

  /** The model's name in MLflow when this call is sent: a rename queued after it has not happened there yet. */
  private async nameAt(call: Claimed, current: string): Promise<string> {
    const rename = await this.db.registryCall.findFirst({
      where: { modelId: call.modelId, kind: "rename", id: { gt: call.id } },
      orderBy: { id: "asc" },
      select: { payload: true },
    });
    return rename ? (rename.payload as Extract<RegistryCallPayload, { kind: "rename" }>).from : current;
  }

  private async send(call: Claimed) {
    const model = await this.db.registeredModel.findUnique({ where: { id: call.modelId }, select: { name: true, projectId: true } });
    if (!model) return;
    const name = await this.nameAt(call, model.name);
    const p = call.payload;
    switch (p.kind) {
      case "create_model":
        return this.client.createRegisteredModel(name, p.description, p.tags);
      case "rename":
        return this.client.renameRegisteredModel(p.from, p.to).then(
          () => {},
          (err) => {
            // Never created under the old name (its first version is still to come): nothing to rename.
            if (!(err instanceof MlflowError && err.code === "RESOURCE_DOES_NOT_EXIST")) throw err;
          },
        );
      case "create_version":
        return this.createVersion(call, name, model.projectId, p.versionId);
      case "set_alias": {
        const v = await this.db.modelVersion.findUnique({ where: { id: p.versionId }, select: { mlflowVersion: true } });
        if (!v?.mlflowVersion) {
          this.log.warn({ modelId: call.modelId, alias: p.alias }, "alias not mirrored: its version never reached MLflow");
          return;
        }
        return this.client.setAlias(name, p.alias, v.mlflowVersion);
      }
      case "delete_alias":
        return this.client.deleteAlias(name, p.alias).then(
          () => {},
          (err) => {
            if (!(err instanceof MlflowError && err.code === "RESOURCE_DOES_NOT_EXIST")) throw err;
          },
        );
    }
  }

  private async createVersion(call: Claimed, name: string, projectId: string, versionId: string) {
    const v = await this.db.modelVersion.findUnique({
      where: { id: versionId },
      select: {
        id: true,
        version: true,
        lineage: true,
        metrics: true,
        description: true,
        mlflowVersion: true,
        createdAt: true,
        artifactId: true,
        job: { select: { id: true, mlflowRunId: true, mlflowArtifactUri: true } },
      },
    });
    if (!v || v.mlflowVersion) return;
    // The job's best.pt reaches its MLflow run through the tracker's outbox: wait for it (a while).
    if (v.job && Date.now() - v.createdAt.getTime() < this.opts.runWaitMs) {
      if ((await this.db.trackingCall.count({ where: { jobId: v.job.id } })) > 0) throw new Deferred();
    }
    const tags = versionTags(v);
    // An earlier attempt may have reached MLflow before its answer was lost: find it by our id.
    if (call.attempts > 1) {
      const found = (await this.client.searchModelVersions(name)).find((m) =>
        (m.tags ?? []).some((t) => t.key === "wyolo.version_id" && t.value === v.id),
      );
      if (found) return this.stored(v.id, found.version);
    }
    const artifact = v.artifactId
      ? await this.db.jobArtifact.findUnique({ where: { id: v.artifactId }, select: { storageKey: true } })
      : null;
    const source = v.job?.mlflowArtifactUri
      ? `${v.job.mlflowArtifactUri.replace(/\/+$/, "")}/weights`
      : artifact
        ? `s3://${this.opts.bucket}/${path.posix.dirname(artifact.storageKey)}`
        : `wyolo:/versions/${v.id}`;
    const request = { name, source, runId: v.job?.mlflowRunId ?? undefined, tags, description: v.description };
    const created = await this.client.createModelVersion(request).catch(async (err) => {
      // The model is not in MLflow (deleted there, or created before MLflow was set up and its call lost): make it first.
      if (!(err instanceof MlflowError && err.code === "RESOURCE_DOES_NOT_EXIST")) throw err;
      await this.client.createRegisteredModel(name, "", [{ key: "wyolo.project_id", value: projectId }]);
      return this.client.createModelVersion(request);
    });
    await this.stored(v.id, created.version);
  }

  private async stored(versionId: string, mlflowVersion: string) {
    await this.db.modelVersion.updateMany({ where: { id: versionId }, data: { mlflowVersion } });
  }
}
