import { describe, expect, it } from "vitest";
import { isWorkerOnline, parseWorkerReport, WORKER_OFFLINE_AFTER_MS, type WorkerReport } from "../src/index.ts";

const now = Date.parse("2026-01-01T12:00:00Z");
const report: WorkerReport = {
  name: "w1",
  host: "h",
  pid: 1,
  startedAt: new Date(now - 60_000).toISOString(),
  lastSeen: new Date(now - 1_000).toISOString(),
  concurrency: 1,
  draining: false,
  trainer: { ok: true, details: {} },
  gpus: [],
  runningJobIds: [],
};

describe("worker reports", () => {
  it("parses a report as workers write it", () => {
    expect(parseWorkerReport(JSON.stringify(report))).toEqual(report);
  });

  it.each([
    ["not JSON", "{"],
    ["not an object", "42"],
    ["no name", JSON.stringify({ ...report, name: undefined })],
    ["a lastSeen that is no date", JSON.stringify({ ...report, lastSeen: "yesterday" })],
    ["gpus that are no list", JSON.stringify({ ...report, gpus: "0" })],
  ])("drops %s", (_what, raw) => {
    expect(parseWorkerReport(raw)).toBeNull();
  });

  it("is online while heard from within WORKER_OFFLINE_AFTER_MS and not draining", () => {
    expect(isWorkerOnline(report, now)).toBe(true);
    expect(isWorkerOnline({ ...report, lastSeen: new Date(now - WORKER_OFFLINE_AFTER_MS).toISOString() }, now)).toBe(true);
    expect(isWorkerOnline({ ...report, lastSeen: new Date(now - WORKER_OFFLINE_AFTER_MS - 1).toISOString() }, now)).toBe(false);
    expect(isWorkerOnline({ ...report, draining: true }, now)).toBe(false);
  });
});
