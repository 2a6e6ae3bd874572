import { describe, expect, it } from "vitest";
import type { ResourceSample } from "@wyolo/contracts";
import {
  mergeSamples,
  parseCpuClock,
  parseProcessTicks,
  ResourceSeries,
  sampleOf,
  ticksBetween,
  writeSeries,
} from "../src/training/resource-sampler.ts";
import type { Db } from "@wyolo/db";

const t0 = Date.parse("2026-01-01T00:00:00Z");
const sample = (second: number, extra: Partial<ResourceSample> = {}): ResourceSample => ({
  at: new Date(t0 + second * 1000).toISOString(),
  spanSeconds: 5,
  cpuPercent: 100,
  rssBytes: 1000,
  hostCpuPercent: 50,
  gpuUtil: null,
  gpuMemUsedMb: null,
  gpus: null,
  ...extra,
});

describe("/proc readings", () => {
  it("reads the machine's CPU clock and its CPU count from /proc/stat", () => {
    const stat = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\ncpu1 50 3 25 400 10 1 1 2 0 0\nintr 1 2\n";
    expect(parseCpuClock(stat)).toEqual({ total: 981, idle: 820, cpus: 2 });
    expect(parseCpuClock("nothing")).toBeNull();
  });

  it("reads a process's user + system ticks after a command name with spaces and parentheses", () => {
    const stat = "4242 (python3 (train) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 9 0 100 2000000 5000";
    expect(parseProcessTicks(stat)).toBe(1234 + 567);
  });

  it("counts the ticks a tree used between readings; a new process from its start, an ended one not at all", () => {
    const before = new Map([
      [1, 100],
      [2, 50],
      [3, 70],
    ]);
    const after = new Map([
      [1, 160],
      [2, 50],
      [4, 30],
    ]);
    expect(ticksBetween(before, after)).toBe(60 + 0 + 30);
  });
});

describe("a sample of a span", () => {
  const clock = (total: number, idle: number) => ({ total, idle, cpus: 4 });
  it("gives the trainer tree's CPU in % of one core, the host's in % of all, and its GPUs' figures", () => {
    // 400 ticks over 4 CPUs: 100 ticks per CPU in the span; the tree used 150 → 150 % of one core.
    const s = sampleOf(
      { at: t0, clock: clock(1000, 500), tree: new Map([[10, 0]]), worker: new Map() },
      { at: t0 + 5000, clock: clock(1400, 600), tree: new Map([[10, 150]]), worker: new Map() },
      2_000_000,
      [
        {
          index: 0,
          uuid: "a",
          name: "A",
          memoryTotalMb: 24000,
          memoryUsedMb: 1000,
          memoryFreeMb: 23000,
          utilizationPercent: 10,
          temperatureC: 40,
        },
        {
          index: 1,
          uuid: "b",
          name: "B",
          memoryTotalMb: 24000,
          memoryUsedMb: 5000,
          memoryFreeMb: 19000,
          utilizationPercent: 80,
          temperatureC: 50,
        },
      ],
      [1],
    );
    expect(s).toEqual({
      at: new Date(t0).toISOString(),
      spanSeconds: 5,
      cpuPercent: 150,
      rssBytes: 2_000_000,
      hostCpuPercent: 75,
      gpuUtil: 80,
      gpuMemUsedMb: 5000,
      gpus: [{ index: 1, util: 80, memUsedMb: 5000, memTotalMb: 24000 }],
    });
  });

  it("with WORKER_CPU_CORES, 'the worker's CPUs' are its own processes against those cores", () => {
    const s = sampleOf(
      { at: t0, clock: clock(1000, 500), tree: new Map(), worker: new Map([[1, 0]]) },
      { at: t0 + 5000, clock: clock(1400, 900), tree: new Map(), worker: new Map([[1, 180]]) },
      0,
      null,
      [],
      2,
    );
    expect(s.hostCpuPercent).toBe(90); // 180 % of one core on 2 cores, while the host as a whole idled
    expect(s.gpus).toBeNull();
    expect(s.gpuUtil).toBeNull();
    expect(s.rssBytes).toBeNull();
  });

  it("a GPU nvidia-smi no longer lists is null, not a zero", () => {
    const s = sampleOf(
      { at: t0, clock: null, tree: new Map(), worker: new Map() },
      { at: t0 + 5000, clock: null, tree: new Map(), worker: new Map() },
      1,
      [],
      [0],
    );
    expect(s.gpus).toEqual([{ index: 0, util: null, memUsedMb: null, memTotalMb: null }]);
    expect(s.gpuUtil).toBeNull();
    expect(s.cpuPercent).toBeNull();
    expect(s.hostCpuPercent).toBeNull();
  });
});

describe("merging samples", () => {
  it("covers both spans with time-weighted means, per GPU too; a missing figure takes the other's", () => {
    const a = sample(0, {
      spanSeconds: 10,
      cpuPercent: 100,
      gpuUtil: 90,
      gpus: [{ index: 0, util: 90, memUsedMb: 1000, memTotalMb: 24000 }],
    });
    const b = sample(10, {
      spanSeconds: 5,
      cpuPercent: 400,
      hostCpuPercent: null,
      gpuUtil: 30,
      gpus: [{ index: 0, util: 30, memUsedMb: 4000, memTotalMb: 24000 }],
    });
    expect(mergeSamples(a, b)).toEqual({
      at: a.at,
      spanSeconds: 15,
      cpuPercent: 200,
      rssBytes: 1000,
      hostCpuPercent: 50,
      gpuUtil: 70,
      gpuMemUsedMb: null,
      gpus: [{ index: 0, util: 70, memUsedMb: 2000, memTotalMb: 24000 }],
    });
  });
});

describe("the bounded series", () => {
  it("never holds more than its bound; the newest rows stay at full resolution and no time is lost", () => {
    const series = new ResourceSeries(100, 20);
    for (let i = 0; i < 1000; i++) series.add(sample(i * 5));
    expect(series.rows.length).toBe(100);
    expect(series.rows.slice(-20).every((r) => r.spanSeconds === 5)).toBe(true);
    expect(series.rows.reduce((s, r) => s + r.spanSeconds, 0)).toBe(5000);
    // Oldest first, each start after the one before, each row starting where the one before ended.
    for (let i = 1; i < series.rows.length; i++) {
      const prev = series.rows[i - 1]!;
      expect(Date.parse(series.rows[i]!.at)).toBe(Date.parse(prev.at) + prev.spanSeconds * 1000);
    }
  });

  it("a 10 h run at 5 s ends as 1,000 rows of about equal span", () => {
    const series = new ResourceSeries(1000);
    for (let i = 0; i < 7200; i++) series.add(sample(i * 5));
    expect(series.rows.length).toBe(1000);
    // Its last minutes at 5 s (the newest rows, and the one about to be merged), all the rest within a factor of 2.
    const older = series.rows.slice(0, -(series.keepRecent + 1)).map((r) => r.spanSeconds);
    expect(series.rows.slice(-series.keepRecent).every((r) => r.spanSeconds === 5)).toBe(true);
    expect(Math.max(...older) / Math.min(...older)).toBeLessThanOrEqual(2);
    expect(Math.max(...older)).toBeLessThanOrEqual(60);
  });

  it("flushes only what changed: new and merged rows, and deletes the rows merged away", () => {
    const series = new ResourceSeries(16);
    for (let i = 0; i < 16; i++) series.add(sample(i * 5));
    const first = series.changes();
    expect(first.create).toHaveLength(16);
    expect(first.remove).toEqual([]);
    series.written(first);
    expect(series.changes().create).toHaveLength(0);

    series.add(sample(80)); // 17 rows: the oldest pair becomes one
    const second = series.changes();
    expect(second.create.map((r) => [r.at, r.spanSeconds])).toEqual([
      [sample(0).at, 10],
      [sample(80).at, 5],
    ]);
    expect(second.remove.sort()).toEqual([sample(0).at, sample(5).at].sort());
    series.written(second);
    expect(series.changes()).toMatchObject({ create: [], remove: [] });
  });

  it("a write that raced a newer change leaves that row to write again; rows loaded from Postgres count in the bound", () => {
    const series = new ResourceSeries(16);
    series.load(Array.from({ length: 16 }, (_, i) => sample(i * 5)));
    expect(series.changes().create).toHaveLength(0);
    series.add(sample(80));
    const flight = series.changes();
    series.add(sample(85)); // merges the next oldest pair while the write is under way
    series.written(flight);
    const next = series.changes();
    expect(next.create.map((r) => r.at)).toEqual([sample(10).at, sample(85).at]);
    expect(next.remove.sort()).toEqual([sample(10).at, sample(15).at].sort());
  });

  it("a write that committed but lost its reply, sent again, replaces its rows instead of hitting their key", async () => {
    // A table keyed by (jobId, at), as Postgres keeps it; the first commit's reply is lost.
    const table = new Map<string, number>();
    let loseReply = true;
    const db = {
      jobResourceSample: {
        deleteMany:
          ({ where }: { where: { at: { in: Date[] } } }) =>
          () =>
            where.at.in.forEach((d) => table.delete(d.toISOString())),
        createMany:
          ({ data }: { data: { at: Date; spanSeconds: number }[] }) =>
          () => {
            if (data.some((r) => table.has(r.at.toISOString())))
              throw Object.assign(new Error("Unique constraint failed"), { code: "P2002" });
            for (const r of data) table.set(r.at.toISOString(), r.spanSeconds);
          },
      },
      $transaction: async (ops: (() => void)[]) => {
        ops.forEach((op) => op());
        if (loseReply) {
          loseReply = false;
          throw new Error("Connection terminated unexpectedly");
        }
      },
    } as unknown as Db;
    const series = new ResourceSeries(16);
    for (let i = 0; i < 3; i++) series.add(sample(i * 5));
    await expect(writeSeries(db, "job1", series)).rejects.toThrow("Connection terminated");
    expect(series.pending).toBe(3);
    await writeSeries(db, "job1", series);
    expect(series.pending).toBe(0);
    expect([...table.keys()].sort()).toEqual([sample(0).at, sample(5).at, sample(10).at]);
  });
});
