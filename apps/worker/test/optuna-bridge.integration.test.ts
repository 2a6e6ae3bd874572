import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OptunaBridge, OptunaBridgeError, isStorageUnavailable, optunaStorageUrl, type StudySpec } from "../src/sweeps/optuna-bridge.ts";

// The real bridge on real Optuna (Debian's python3-optuna, or WYOLO_TEST_PYTHON) and this file's own database.
const ROOT = path.resolve(import.meta.dirname, "../../..");
const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const command = `${python} apps/worker/sweeper/optuna_bridge.py`;
const storageUrl = optunaStorageUrl(process.env.DATABASE_URL!);
const bridges: OptunaBridge[] = [];
const open = (over: Partial<ConstructorParameters<typeof OptunaBridge>[0]> = {}) => {
  const bridge = new OptunaBridge({ command, storageUrl, cwd: ROOT, timeoutMs: 20_000, ...over });
  bridges.push(bridge);
  return bridge;
};
afterAll(() => Promise.all(bridges.map((b) => b.close())));

let studies = 0;
const spec = (over: Partial<StudySpec> = {}): StudySpec => ({
  name: `wyolo-it-${++studies}`,
  direction: "maximize",
  sampler: "TPESampler",
  seed: 1,
  pruner: "successive_halving",
  grace_period: 2,
  max_epochs: 8,
  space: { lr0: { type: "float", low: 1e-5, high: 0.1, log: true }, batch: { type: "categorical", choices: [8, 16] } },
  ...over,
});
const curve = (quality: number, epoch: number) => quality * (1 - Math.exp(-epoch / 2));

describe("OptunaBridge against the real bridge and Postgres", () => {
  it("asks, reports, prunes, tells and lists; studies live in schema optuna", async () => {
    const bridge = open();
    const hello = await bridge.hello();
    expect(hello.optuna).toMatch(/^[34]\./);
    expect(hello.samplers).toContain("TPESampler");
    const study = spec();
    expect(await bridge.ensureStudy(study)).toEqual({ created: true });
    expect(await bridge.ensureStudy(study)).toEqual({ created: false });

    for (let i = 0; i < 3; i++) {
      const [trial] = await bridge.ask(study, 1);
      for (let epoch = 1; epoch <= 8; epoch++)
        expect((await bridge.report(study, trial!.number, epoch, curve(0.9, epoch))).prune).toBe(false);
      expect(await bridge.tell(study, trial!.number, "COMPLETE", curve(0.9, 8))).toBe("COMPLETE");
    }
    const [bad] = await bridge.ask(study, 1);
    expect(await bridge.report(study, bad!.number, 1, curve(0.1, 1))).toEqual({ prune: false, finished: false });
    expect(await bridge.report(study, bad!.number, 2, curve(0.1, 2))).toEqual({ prune: true, finished: false });
    expect(await bridge.tell(study, bad!.number, "PRUNED")).toBe("PRUNED");
    expect(await bridge.tell(study, bad!.number, "COMPLETE", 1)).toBe("PRUNED");

    const trials = await bridge.trials(study);
    expect(trials.map((t) => [t.number, t.state])).toEqual([
      [0, "COMPLETE"],
      [1, "COMPLETE"],
      [2, "COMPLETE"],
      [3, "PRUNED"],
    ]);
    expect(Object.keys(trials[3]!.intermediate)).toEqual(["1", "2"]);
    expect(trials[0]!.params).toHaveProperty("lr0");

    // With 3 complete trials fANOVA's forest may see no variance: then the answer says why.
    const importances = await bridge.importances(study);
    if (importances.importances) {
      expect(Object.keys(importances.importances).every((p) => p === "lr0" || p === "batch")).toBe(true);
      expect(Object.values(importances.importances).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    } else expect(importances.reason).toMatch(hello.importance ? /variance|trials/ : /scikit-learn/);

    const tables = execFileSync(
      "psql",
      [process.env.DATABASE_URL!, "-Atc", "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'optuna'"],
      {
        encoding: "utf8",
      },
    );
    expect(Number(tables.trim())).toBeGreaterThan(5);
  });

  it("answers bad input and unknown trials with typed errors, and goes on", async () => {
    const bridge = open();
    const study = spec({ space: { lr0: { type: "float", low: 1, high: 0.1, log: false } } });
    const invalid = await bridge.ask(study, 1).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OptunaBridgeError);
    expect((invalid as OptunaBridgeError).code).toBe("INVALID");
    const missing = await bridge.report(spec(), 0, 1, 0.5).catch((e: unknown) => e);
    expect((missing as OptunaBridgeError).code).toBe("NOT_FOUND");
    const grid = await bridge.ensureStudy(spec({ sampler: "GridSampler" })).catch((e: unknown) => e);
    expect((grid as OptunaBridgeError).message).toMatch(/GridSampler needs categorical or stepped int params/);
    expect((await bridge.hello()).optuna).toBeTruthy();
  });

  it("two bridges on one study never hand out the same trial number", async () => {
    const study = spec({ pruner: "none" });
    const [a, b] = [open(), open()];
    await a.ensureStudy(study);
    const asked = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? a : b).ask(study, 2)));
    const numbers = asked.flat().map((t) => t.number);
    expect(numbers.sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
  });

  it("says the storage is unavailable when Postgres does not answer", async () => {
    const bridge = open({ storageUrl: optunaStorageUrl("postgresql://postgres@127.0.0.1:1/nowhere") });
    const err = await bridge.ensureStudy(spec()).catch((e: unknown) => e);
    expect(isStorageUnavailable(err)).toBe(true);
    expect((err as OptunaBridgeError).code).toBe("STORAGE_UNAVAILABLE");
  });

  it("restarts a child that died, and times out a child that does not answer", async () => {
    const bridge = open();
    await bridge.hello();
    const first = bridge.pid!;
    process.kill(first, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    expect((await bridge.hello()).optuna).toBeTruthy();
    expect(bridge.pid).not.toBe(first);

    const silent = open({ command: "sleep 60", timeoutMs: 300 });
    const err = await silent.hello().catch((e: unknown) => e);
    expect((err as OptunaBridgeError).code).toBe("TIMEOUT");
    const gone = await open({ command: "/nonexistent/python3 bridge.py" })
      .hello()
      .catch((e: unknown) => e);
    expect((gone as OptunaBridgeError).code).toBe("EXITED");
  });

  it("passes the child only the storage URL and a few harmless variables", async () => {
    process.env.WYOLO_SECRET_PROBE = "do-not-pass";
    const bridge = open({ command: `${process.execPath} apps/worker/test/fixtures/env-echo-bridge.mjs` });
    const keys = (await bridge.hello().finally(() => delete process.env.WYOLO_SECRET_PROBE)) as unknown as string[];
    expect(keys).toContain("WYOLO_OPTUNA_STORAGE");
    expect(keys).not.toContain("WYOLO_SECRET_PROBE");
    expect(keys).not.toContain("DATABASE_URL");
  });
});
