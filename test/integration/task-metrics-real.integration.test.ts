import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bestEpochOf, parseTrainerLine, type TrainerEvent } from "@wyolo/contracts";
import { isExcerptNoise } from "../../apps/worker/src/training/job-recorder.ts";
import { parseResultsCsv } from "../../apps/worker/src/training/results-csv.ts";
import { ROOT } from "./db";
import { realTrainer } from "./worker-harness";

// Issue 16 parts 2 and 3 with a real Ultralytics: train.py run as the worker runs it (events on fd 3,
// stdin held open), on CPU. Skips, saying why, where the trainer's Python cannot import ultralytics.
const { python, report, ready } = realTrainer();
if (!ready)
  console.warn(
    `SKIPPED task metrics with real Ultralytics: ${report.problem ?? "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics)`,
  );

const root = mkdtempSync(path.join(os.tmpdir(), "wyolo-task-real-"));
const datasets = path.join(root, "datasets");

type Run = { code: number | null; events: TrainerEvent[]; stdout: string; stderr: string };

/** Runs train.py for `config` in a fresh run directory, as the worker does. */
function trainPy(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<Run> {
  const runDir = mkdtempSync(path.join(root, "run-"));
  writeFileSync(path.join(runDir, "config.json"), JSON.stringify(config));
  const child = spawn(python, [path.join(ROOT, "apps/worker/trainer/train.py")], {
    cwd: ROOT,
    env: {
      ...process.env,
      WYOLO_CONFIG: path.join(runDir, "config.json"),
      WYOLO_RUN_DIR: runDir,
      WYOLO_STOP_FILE: path.join(runDir, "STOP"),
      WYOLO_EVENTS_FD: "3",
      WYOLO_DATASETS_DIR: datasets,
      WYOLO_DEVICE: "cpu",
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe", "pipe"],
  });
  let events = "";
  let stdout = "";
  let stderr = "";
  child.stdio[3]!.on("data", (c: Buffer) => (events += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.on("close", (code) => {
      const parsed = events
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const p = parseTrainerLine(line);
          if (!p.ok) throw new Error(`train.py sent an event the worker refuses (${p.error}): ${line}`);
          return p.event;
        });
      resolve({ code, events: parsed, stdout, stderr });
    }),
  );
}

const train = (data: string, extra: Record<string, unknown> = {}) => ({
  data,
  epochs: 1,
  imgsz: 64,
  batch: 8,
  workers: 0,
  plots: false,
  ...extra,
});
const of = <T extends TrainerEvent["type"]>(run: Run, type: T) =>
  run.events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);

describe.skipIf(!ready)(`task metrics with real Ultralytics ${report.ultralytics ?? ""}`, { timeout: 300_000 }, () => {
  it("reports best.pt's epoch (ties on a tiny run's zero metrics go to the LAST epoch), AutoBatch on CPU says 16 and why", async () => {
    mkdirSync(datasets, { recursive: true });
    for (const kind of ["detect", "classify"])
      execFileSync(
        python,
        [
          "apps/worker/trainer/make_dataset.py",
          kind,
          path.join(datasets, kind === "detect" ? "shapes" : "pets"),
          "--train",
          "16",
          "--val",
          "8",
          "--size",
          "64",
        ],
        {
          cwd: ROOT,
        },
      );
    const run = await trainPy({
      model: "yolov8n.yaml",
      type: "yolo",
      task: "detect",
      train: train("shapes/data.yaml", { epochs: 3, batch: -1 }),
    });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const finished = of(run, "finished")[0]!;
    const rows = parseResultsCsv(readFileSync(finished.resultsCsv!, "utf8"));
    const expected = bestEpochOf(rows)!;
    console.log(
      `real detect run: mAP50-95 per epoch ${rows.map((r) => r.metrics["metrics/mAP50-95(B)"]).join(", ")}; best.pt epoch ${finished.bestEpoch}`,
    );
    expect(finished.bestEpoch).toBe(expected.epoch);
    const autobatch = of(run, "autobatch")[0]!;
    expect(autobatch).toMatchObject({ reason: "cpu", batch: 16, device: "cpu" });
    expect(of(run, "started")[0]!.batch).toBe(16);
    // A fresh YOLO_CONFIG_DIR per job: Ultralytics announces its settings file, which the excerpt leaves out.
    const settingsLines = (run.stdout + run.stderr).split("\n").filter((l) => /Ultralytics Settings|yolo settings/.test(l));
    expect(settingsLines.length).toBeGreaterThan(0);
    for (const line of settingsLines) expect(isExcerptNoise(line.trim())).toBe(true);
  });

  it("trains from a folder's data.yaml, and a classify model on a detection set fails DATASET_INVALID naming the layout", async () => {
    const folder = await trainPy({ model: "yolov8n.yaml", type: "yolo", task: "detect", train: train("shapes") });
    expect(folder.code, folder.stderr.slice(-2000)).toBe(0);
    expect(of(folder, "log").some((l) => l.message.includes("is a folder: training from its data.yaml"))).toBe(true);
    for (const data of ["shapes/data.yaml", "shapes"]) {
      const wrong = await trainPy({ model: "yolov8n-cls.yaml", type: "yolo", task: "classify", train: train(data) });
      const failed = of(wrong, "failed")[0]!;
      expect(wrong.code).toBe(1);
      expect(failed).toMatchObject({ errorClass: "DATASET_INVALID" });
      expect(failed.suggestion).toContain("train/ and val/, one subfolder of images per class");
    }
    const detectOnClassify = await trainPy({ model: "yolov8n.yaml", type: "yolo", task: "detect", train: train("pets") });
    expect(of(detectOnClassify, "failed")[0]).toMatchObject({ errorClass: "DATASET_INVALID" });
    const classify = await trainPy({ model: "yolov8n-cls.yaml", type: "yolo", task: "classify", train: train("pets") });
    expect(classify.code, classify.stderr.slice(-2000)).toBe(0);
    expect(of(classify, "epoch")[0]!.metrics["metrics/accuracy_top1"]).toBeTypeOf("number");
  });

  it.each([
    ["segment", "yolov8n-seg.yaml", "metrics/mAP50-95(M)"],
    ["pose", "yolov8n-pose.yaml", "metrics/mAP50-95(P)"],
  ])("%s: the epochs carry the task's own metric, which is the job's best, at best.pt's epoch", async (task, model, name) => {
    execFileSync(
      python,
      ["apps/worker/trainer/make_dataset.py", task, path.join(datasets, task), "--train", "16", "--val", "8", "--size", "64"],
      {
        cwd: ROOT,
      },
    );
    const run = await trainPy({ model, type: "yolo", task, train: train(`${task}/data.yaml`, { epochs: 2 }) });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const epochs = of(run, "epoch").map((e) => ({
      epoch: e.epoch,
      metrics: { ...e.metrics, ...(e.fitness != null ? { fitness: e.fitness } : {}) } as Record<string, number>,
    }));
    expect(Object.keys(epochs[0]!.metrics)).toEqual(expect.arrayContaining(["metrics/mAP50-95(B)", name, "fitness"]));
    const best = bestEpochOf(epochs)!;
    console.log(
      `real ${task} run: ${name} per epoch ${epochs.map((e) => e.metrics[name]).join(", ")}; best.pt epoch ${of(run, "finished")[0]!.bestEpoch}`,
    );
    expect(best.name).toBe(name);
    expect(of(run, "finished")[0]!.bestEpoch).toBe(best.epoch);
  });

  it("classifies Ultralytics' own dataset errors (past train.py's checks) as dataset failures with the layout", () => {
    // Ultralytics called directly, as a layout train.py does not check would reach it.
    const script = `
import json, os, sys
sys.path.insert(0, "apps/worker/trainer")
os.environ.update(YOLO_OFFLINE="true", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR="${root}/cfg")
import train
from ultralytics import YOLO
out = {}
for name, model, task, data in [("dir", "yolov8n.yaml", "detect", "${datasets}/shapes"), ("cls_yaml", "yolov8n-cls.yaml", "classify", "${datasets}/shapes/data.yaml")]:
    try:
        YOLO(model).train(data=data, epochs=1, imgsz=64, batch=4, workers=0, plots=False, project="${root}/direct", name=name, exist_ok=True)
        out[name] = None
    except Exception as exc:
        out[name] = [str(exc)[:300], *train.classify_failure(exc, 4, task)]
print("RESULT " + json.dumps(out))
`;
    const stdout = execFileSync(python, ["-c", script], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const result = JSON.parse(
      stdout
        .split("\n")
        .find((l) => l.startsWith("RESULT "))!
        .slice(7),
    ) as Record<string, [string, string, string]>;
    console.log(`Ultralytics' own errors: ${JSON.stringify(result)}`);
    expect(result.dir![0]).toContain("Is a directory");
    expect(result.dir!.slice(1)).toEqual(["DATASET_INVALID", expect.stringContaining("data.yaml")]);
    expect(result.cls_yaml![1]).toMatch(/^DATASET_(NOT_FOUND|INVALID)$/);
    expect(result.cls_yaml![2]).toContain("one subfolder of images per class");
  });
});
