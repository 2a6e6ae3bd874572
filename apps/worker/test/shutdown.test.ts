import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { createShutdown, onStopSignals, type ShutdownStep } from "../src/shutdown.ts";

const log = { info: vi.fn(), error: vi.fn() };

function harness(steps: ShutdownStep[], deadlineMs = 1_000) {
  const order: string[] = [];
  const exits: number[] = [];
  const shutdown = createShutdown({
    log,
    deadlineMs,
    stopTaking: () => order.push("stop-taking"),
    abortRunning: (signal) => order.push(`abort:${signal}`),
    steps: steps.map((s) => ({ name: s.name, run: async () => (order.push(s.name), s.run()) })),
    exit: (code) => exits.push(code),
  });
  return { shutdown, order, exits };
}

describe("worker shutdown", () => {
  it("stops taking jobs, asks running ones to hand back, then closes each step in order and exits 0", async () => {
    let handedBack = false;
    const { shutdown, order, exits } = harness([
      // The BullMQ worker's close resolves once the running jobs handed back.
      { name: "worker", run: () => new Promise<void>((r) => setTimeout(() => ((handedBack = true), r()), 30)) },
      { name: "reporter", run: async () => expect(handedBack).toBe(true) },
      { name: "redis", run: async () => {} },
      { name: "postgres", run: async () => {} },
    ]);
    await shutdown("SIGTERM");
    expect(order).toEqual(["stop-taking", "abort:SIGTERM", "worker", "reporter", "redis", "postgres"]);
    expect(exits).toEqual([0]);
  });

  it("runs once however many signals arrive", async () => {
    const { shutdown, order, exits } = harness([{ name: "worker", run: async () => {} }]);
    await Promise.all([shutdown("SIGTERM"), shutdown("SIGINT"), shutdown("SIGTERM")]);
    expect(order.filter((o) => o === "worker")).toHaveLength(1);
    expect(exits).toEqual([0]);
  });

  it("exits 1 when the steps outlast the deadline", async () => {
    const { shutdown, exits } = harness([{ name: "worker", run: () => new Promise(() => {}) }], 50);
    const t0 = Date.now();
    await shutdown("SIGTERM");
    expect(exits).toEqual([1]);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it("exits 1 when a step throws, without running the rest", async () => {
    const { shutdown, order, exits } = harness([
      { name: "worker", run: async () => Promise.reject(new Error("redis gone")) },
      { name: "postgres", run: async () => {} },
    ]);
    await shutdown("SIGINT");
    expect(order).not.toContain("postgres");
    expect(exits).toEqual([1]);
  });

  it("starts on SIGTERM and SIGINT", async () => {
    const proc = new EventEmitter();
    const shutdown = vi.fn(async () => {});
    onStopSignals(shutdown, proc as unknown as NodeJS.Process);
    proc.emit("SIGINT");
    proc.emit("SIGTERM");
    expect(shutdown.mock.calls).toEqual([["SIGINT"], ["SIGTERM"]]);
  });
});
