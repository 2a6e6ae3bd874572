import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SpillFile, type SpillRecord } from "../src/training/spill-file.ts";

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "wyolo-spill-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const log = (seq: number): SpillRecord => ({
  t: "log",
  line: { seq, stream: "stdout", line: `line ${seq}`, at: "2026-11-30T10:00:00.000Z" },
});
const epoch: SpillRecord = {
  t: "epoch",
  row: { epoch: 3, losses: { "val/box_loss": 1.5 }, metrics: { "metrics/mAP50-95(B)": 0.4 }, lr: { "lr/pg0": 0.01 }, epochTime: 12.5 },
};

describe("SpillFile", () => {
  it("reads nothing when absent", () => {
    expect(new SpillFile(dir).read()).toEqual({ records: [], bytes: 0, skipped: 0 });
    expect(new SpillFile(dir).size()).toBe(0);
  });

  it("appends batches as JSON lines and reads them back in order, across instances", () => {
    new SpillFile(dir).append([{ t: "delayed", at: "2026-11-30T10:00:00.000Z" }, epoch]);
    new SpillFile(dir).append([log(1), log(2), { t: "patch", fields: { currentEpoch: 3 } }]);
    const spill = new SpillFile(dir);
    const { records, bytes, skipped } = spill.read();
    expect(records).toEqual([
      { t: "delayed", at: "2026-11-30T10:00:00.000Z" },
      epoch,
      log(1),
      log(2),
      { t: "patch", fields: { currentEpoch: 3 } },
    ]);
    expect(bytes).toBe(spill.size());
    expect(skipped).toBe(0);
    expect(readFileSync(spill.path, "utf8").trim().split("\n")).toHaveLength(5);
  });

  it("tolerates a last line cut by a crash mid-write (and a damaged one), reading the rest", () => {
    const spill = new SpillFile(dir);
    spill.append([log(1), log(2)]);
    appendFileSync(spill.path, "not json\n");
    spill.append([log(3)]);
    appendFileSync(spill.path, JSON.stringify(log(4)).slice(0, 25));
    const { records, skipped } = spill.read();
    expect(records).toEqual([log(1), log(2), log(3)]);
    expect(skipped).toBe(2);
  });

  it("drops what a replay covered and keeps what was appended after it", () => {
    const spill = new SpillFile(dir);
    spill.append([log(1), log(2)]);
    const { bytes } = spill.read();
    spill.append([log(3)]);
    spill.dropFirst(bytes);
    expect(spill.read().records).toEqual([log(3)]);
    spill.dropFirst(spill.size());
    expect(spill.size()).toBe(0);
    expect(spill.read().records).toEqual([]);
    spill.dropFirst(Infinity); // absent: nothing to do
  });
});
