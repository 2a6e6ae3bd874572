import { describe, expect, it } from "vitest";
import { parseTrainingConfig, taskFromModel } from "../src/index.ts";

const base = { model: "yolo11n.pt", train: { data: "/data/d.yaml" } };
const issuesOf = (input: unknown) => {
  const r = parseTrainingConfig(input);
  if (r.ok) throw new Error("expected issues");
  return Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
};

describe("training config", () => {
  it("applies Ultralytics' defaults and resolves the task from the model name", () => {
    const r = parseTrainingConfig(base);
    expect(r.ok && r.config).toMatchObject({ type: "yolo", task: "detect", train: { epochs: 100, imgsz: 640, batch: 16, optimizer: "auto", lr0: 0.01 } });
    expect(taskFromModel("models/yolo11s-seg.pt")).toBe("segment");
    expect(taskFromModel("yolov8n-cls.yaml")).toBe("classify");
    expect(taskFromModel("yolo11n-pose.pt")).toBe("pose");
    expect(taskFromModel("yolo11n-obb.pt")).toBe("obb");
    expect(taskFromModel("rtdetr-l.pt")).toBe("detect");
  });

  it.each([
    [-1, true],
    [8, true],
    [0.7, true],
    [0, false],
    [1.5, false],
    [-2, false],
    [2.5, false],
  ])("batch %s valid: %s", (batch, valid) => {
    expect(parseTrainingConfig({ ...base, train: { ...base.train, batch } }).ok).toBe(valid);
  });

  it("checks types and ranges of train arguments", () => {
    const issues = issuesOf({ ...base, train: { ...base.train, epochs: 0, imgsz: 650, optimizer: "Adagrad", hsv_h: 2, workers: -1, device: "gpu" } });
    expect(Object.keys(issues).sort()).toEqual(["train.device", "train.epochs", "train.hsv_h", "train.imgsz", "train.optimizer", "train.workers"]);
    expect(issues["train.imgsz"]).toBe("Must be a multiple of 32");
  });

  it("refuses unknown keys naming the closest valid ones, and platform-managed keys with the reason", () => {
    const issues = issuesOf({ ...base, modle: "x", train: { ...base.train, epoch: 3, imgsize: 320, resume: true, project: "runs" } });
    expect(issues["train.epoch"]).toBe("Unknown key `epoch`; did you mean `epochs`?");
    expect(issues["train.imgsize"]).toContain("`imgsz`");
    expect(issues["train.resume"]).toContain("managed by Wyolo");
    expect(issues["train.project"]).toContain("run directory");
    expect(issues.modle).toContain("`model`");
  });

  it("accepts the legacy config.yaml text, dropping infrastructure blocks with a warning", () => {
    const r = parseTrainingConfig("model: yolov8n.pt\ntype: rtdetr\ntask_id: t1\ntrain:\n  data: d.yaml\n  batch: -1\nredis:\n  REDIS_PASSWORD: pw\nsweeper:\n  tune: false\n");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ type: "rtdetr", task_id: "t1", train: { batch: -1 } });
    expect(JSON.stringify(r.config)).not.toContain("REDIS_PASSWORD");
    expect(r.warnings).toHaveLength(1);
  });

  it("refuses hyperparameter sweeps for now, and things that are not configs", () => {
    expect(issuesOf({ ...base, sweeper: { tune: true } })["sweeper.tune"]).toContain("not supported");
    expect(issuesOf("- a\n- list").config).toContain("mapping");
    expect(issuesOf({ ...base, model: "../../etc/passwd" }).model).toContain("weights file");
    expect(issuesOf("x".repeat(100_001)).config).toContain("100 kB");
  });
});
