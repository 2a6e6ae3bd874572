import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import type { JobEpochRow, JobLogLine } from "@wyolo/contracts";

/** What a recorder could not write yet. `fill`: an epoch rebuilt from results.csv, which never overwrites the trainer's numbers. */
export type SpillRecord =
  | { t: "epoch"; row: JobEpochRow; fill?: boolean }
  | { t: "log"; line: JobLogLine }
  | { t: "patch"; fields: Record<string, unknown> }
  | { t: "delayed"; at: string };

export const SPILL_FILE_NAME = "recording-spill.jsonl";

/**
 * An append-only JSON-lines file in the run directory holding what Postgres has not taken yet,
 * so a worker that dies during a database outage leaves it for the next attempt. Synchronous on
 * purpose: appends are batched by the caller, and an fsync'd write must be on disk before the
 * caller forgets the data.
 */
export class SpillFile {
  readonly path: string;

  constructor(dir: string) {
    this.path = path.join(dir, SPILL_FILE_NAME);
  }

  /** Size in bytes (0 when absent): the caller keeps it to know which part a replay covered. */
  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  append(records: SpillRecord[]): void {
    if (!records.length) return;
    const fd = openSync(this.path, "a");
    try {
      writeSync(fd, records.map((r) => JSON.stringify(r) + "\n").join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads every whole record. A line that does not parse (the last one, cut by a crash mid-write,
   * or a damaged one) is skipped and counted, never fatal: the rest is still worth writing.
   */
  read(): { records: SpillRecord[]; bytes: number; skipped: number } {
    if (!existsSync(this.path)) return { records: [], bytes: 0, skipped: 0 };
    const buf = readFileSync(this.path);
    const records: SpillRecord[] = [];
    let skipped = 0;
    for (const line of buf.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as SpillRecord;
        if (rec && typeof rec === "object" && typeof rec.t === "string") records.push(rec);
        else skipped++;
      } catch {
        skipped++;
      }
    }
    return { records, bytes: buf.length, skipped };
  }

  /** Drops the first `bytes` (what a replay wrote to Postgres), keeping anything appended since. */
  dropFirst(bytes: number): void {
    const size = this.size();
    if (size <= bytes) {
      if (existsSync(this.path)) unlinkSync(this.path);
      return;
    }
    const rest = readFileSync(this.path).subarray(bytes);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, rest);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
