import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@wyolo/db";
import { createLogger } from "../src/logger.ts";
import type { LivePublisher } from "../src/realtime.ts";
import { JobRecorder } from "../src/training/job-recorder.ts";

// The best a running job shows (before close() settles it over the stored epochs): pages see it live.
// The database never answers here; only the live patches are read.
const hanging = new Proxy(
  {},
  {
    get: (_t, key) => {
      if (key === "then") return undefined;
      const hang = () => ({ then: () => {} });
      return new Proxy(hang, { get: () => hang });
    },
  },
) as unknown as Db;

type Patch = { bestMetric?: number; bestMetricName?: string; bestEpoch?: number };
let patches: Patch[];
const live = { jobUpdated: (p: Patch) => patches.push(p), epoch() {}, logLines() {}, event() {} } as unknown as LivePublisher;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "wyolo-best-"));
  patches = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recorder(
  row: { bestMetric: number | null; bestMetricName: string | null; bestEpoch: number | null } = {
    bestMetric: null,
    bestMetricName: null,
    bestEpoch: null,
  },
) {
  return new JobRecorder(hanging, live, { id: "job1", projectId: "p1", ...row }, 0, {
    flushMs: 60_000,
    heartbeatMs: 60_000,
    maxLogLines: 1000,
    log: createLogger("silent", "test"),
    onCancelRequested: () => {},
    spillDir: dir,
  });
}

const epoch = (n: number, metrics: Record<string, number>, fitness?: number) => ({
  v: 1 as const,
  type: "epoch" as const,
  epoch: n,
  totalEpochs: 10,
  losses: {},
  metrics,
  lr: {},
  ...(fitness !== undefined ? { fitness } : {}),
});
const best = () => {
  const last = patches.findLast((p) => p.bestEpoch !== undefined)!;
  return { name: last.bestMetricName, value: last.bestMetric, epoch: last.bestEpoch };
};

describe("the live best", () => {
  it("follows the trainer's fitness, the later epoch on a tie, and shows a segment job's mask mAP", () => {
    const r = recorder();
    const seg = (m: number) => ({ "metrics/mAP50-95(B)": 0.9, "metrics/mAP50-95(M)": m });
    r.epoch(epoch(1, seg(0.1), 0.3));
    r.epoch(epoch(2, seg(0.4), 0.5));
    r.epoch(epoch(3, seg(0.35), 0.5));
    r.epoch(epoch(4, seg(0.6), 0.45));
    expect(best()).toEqual({ name: "metrics/mAP50-95(M)", value: 0.35, epoch: 3 });
  });

  it("is not moved back to an earlier epoch that a resumed trainer sends again", () => {
    const r = recorder();
    r.epoch(epoch(1, { "metrics/mAP50-95(B)": 0.2, "metrics/mAP50(B)": 0.2 }, 0.2));
    r.epoch(epoch(2, { "metrics/mAP50-95(B)": 0.2, "metrics/mAP50(B)": 0.2 }, 0.2));
    // Resent from results.csv: no fitness, the same numbers.
    r.epoch(epoch(1, { "metrics/mAP50-95(B)": 0.2, "metrics/mAP50(B)": 0.2 }));
    expect(best().epoch).toBe(2);
  });

  it("replaces a best read from the row (its fitness unknown) with the first epoch of this attempt", () => {
    const r = recorder({ bestMetric: 0.5, bestMetricName: "metrics/mAP50-95(B)", bestEpoch: 2 });
    r.epoch(epoch(3, { "metrics/mAP50-95(B)": 0.3 }, 0.3));
    expect(best()).toEqual({ name: "metrics/mAP50-95(B)", value: 0.3, epoch: 3 });
  });
});
