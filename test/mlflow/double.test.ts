import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowDouble } from "./mlflow-double";

// The double must answer what the real MLflow 2.22 answered. Replays the recording in order.
const RECORDING = path.resolve(import.meta.dirname, "../../../shared/mlflow/mlflow-2.22-rest.jsonl");
const present = existsSync(RECORDING);
if (!present) console.warn(`SKIPPED MLflow double replay: ${RECORDING} is not here (it ships in shared/ beside the repository)`);

type Entry = { note: string; method: string; path: string; request: unknown; status: number; response: Record<string, unknown> };

describe.skipIf(!present)("MLflow double vs the recorded MLflow 2.22", () => {
  const double = new MlflowDouble();
  let base = "";
  beforeAll(async () => void (base = await double.start()));
  afterAll(() => double.stop());

  it("answers every recorded call with the recorded status, error code and shape", async () => {
    const entries = readFileSync(RECORDING, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l.replace(/:\s*NaN\b/g, ': "__NaN__"')) as Entry);
    let runId = "";
    let checked = 0;
    for (const e of entries) {
      const recordedRun = /(?:run_id=|\/)([0-9a-f]{32})\b/.exec(e.path)?.[1] ?? (e.request as { run_id?: string } | null)?.run_id;
      const swap = (s: string) => (recordedRun && runId ? s.replaceAll(recordedRun, runId) : s);
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
      if (e.note === "list run artifacts") expect(got.files, e.note).toEqual(e.response.files);
      if (e.note.startsWith("create run")) runId = (got.run as { info: { run_uuid: string } }).info.run_uuid;
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});
