import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowDouble } from "./mlflow-double";

// The double must answer what the real MLflow 2.22 answered. Replays each recording in order.
const SHARED = path.resolve(import.meta.dirname, "../../../shared/mlflow");
const RECORDING = path.join(SHARED, "mlflow-2.22-rest.jsonl");
const REGISTRY = path.join(SHARED, "mlflow-2.22-registry.jsonl");
const present = existsSync(RECORDING) && existsSync(REGISTRY);
if (!present) console.warn(`SKIPPED MLflow double replay: ${SHARED} is not here (it ships in shared/ beside the repository)`);

type Entry = { note: string; method: string; path: string; request: unknown; status: number; response: Record<string, unknown> };

const read = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l.replace(/:\s*NaN\b/g, ': "__NaN__"')) as Entry);

/**
 * Sends every entry to the double and checks status, error code and the answer's keys. Run ids
 * differ between the recording and the double: each created run's recorded id is swapped for the
 * double's in later paths and bodies. Returns the answers by note.
 */
async function replay(base: string, entries: Entry[]) {
  const runIds = new Map<string, string>();
  const answers = new Map<string, Record<string, unknown>>();
  const swap = (s: string) => [...runIds].reduce((out, [recorded, actual]) => out.replaceAll(recorded, actual), s);
  for (const e of entries) {
    // Python's json wrote a bare NaN into one request; send it the same way.
    // A raw upload is recorded by its size ("<1024 raw bytes>"): send that many bytes.
    const rawSize = typeof e.request === "string" ? /^<(\d+) raw bytes>$/.exec(e.request)?.[1] : undefined;
    const body = rawSize
      ? Buffer.alloc(Number(rawSize), 7)
      : e.request == null
        ? undefined
        : swap(JSON.stringify(e.request)).replaceAll('"__NaN__"', "NaN");
    const headers: Record<string, string> = rawSize
      ? { "content-type": "application/octet-stream" }
      : body
        ? { "content-type": "application/json" }
        : {};
    const res = await fetch(base + swap(e.path), { method: e.method, headers, body });
    const got = (await res.json()) as Record<string, unknown>;
    expect(res.status, e.note).toBe(e.status);
    if (e.status >= 400) expect(got.error_code, e.note).toBe(e.response.error_code);
    else expect(Object.keys(got).sort(), e.note).toEqual(Object.keys(e.response).sort());
    const recordedRun = (e.response.run as { info?: { run_uuid?: string } } | undefined)?.info?.run_uuid;
    if (e.method === "POST" && e.path.endsWith("/runs/create") && recordedRun)
      runIds.set(recordedRun, (got.run as { info: { run_uuid: string } }).info.run_uuid);
    answers.set(e.note, got);
  }
  return answers;
}

describe.skipIf(!present)("MLflow double vs the recorded MLflow 2.22", () => {
  const double = new MlflowDouble();
  let base = "";
  beforeAll(async () => void (base = await double.start()));
  afterAll(() => double.stop());

  it("answers every recorded tracking call with the recorded status, error code and shape", async () => {
    const entries = read(RECORDING);
    const answers = await replay(base, entries);
    const files = entries.find((e) => e.note === "list run artifacts");
    if (files) expect(answers.get(files.note)!.files, files.note).toEqual(files.response.files);
    expect(answers.size).toBeGreaterThan(15);
  });

  it("answers every recorded registry call (models, versions, tags, aliases, nested runs) as MLflow 2.22 did", async () => {
    const registry = new MlflowDouble();
    const url = await registry.start();
    try {
      const entries = read(REGISTRY);
      // The recording's server had made three experiments before; its sweep experiment is "4".
      for (const n of [1, 2, 3])
        await fetch(`${url}/api/2.0/mlflow/experiments/create`, { method: "POST", body: JSON.stringify({ name: `earlier-${n}` }) });
      const answers = await replay(url, entries);
      const same = (note: string, pick: (r: Record<string, any>) => unknown) => {
        const recorded = entries.find((e) => e.note === note)!;
        expect(pick(answers.get(note)!), note).toEqual(pick(recorded.response));
      };
      same("create model version from a run's artifacts", (r) => [r.model_version.version, r.model_version.status, r.model_version.tags]);
      same("second version of the same model", (r) => [r.model_version.version, r.model_version.status]);
      same("get version by alias", (r) => [r.model_version.version, r.model_version.aliases]);
      same("registered model with latest versions and aliases", (r) =>
        r.registered_model.latest_versions.map((v: { version: string; tags: unknown }) => [v.version, v.tags]),
      );
      same("search versions of a model", (r) => r.model_versions.map((v: { version: string }) => v.version));
      same("find a sweep's child runs", (r) => r.runs.map((x: { data: { tags: unknown[] } }) => x.data.tags.length));
      expect(answers.size).toBe(entries.length);
    } finally {
      await registry.stop();
    }
  });
});
