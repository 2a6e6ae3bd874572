import { describe, expect, it } from "vitest";
import { parseJobWeightsRef, parseTrainingConfig, rtdetrMinImgsz, taskFromModel, yamlNestingExceeds } from "../src/index.ts";

const base = { model: "yolo11n.pt", train: { data: "d/data.yaml" } };
const issuesOf = (input: unknown) => {
  const r = parseTrainingConfig(input);
  if (r.ok) throw new Error("expected issues");
  return Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
};

describe("training config", () => {
  it("applies Ultralytics' defaults and resolves the task from the model name", () => {
    const r = parseTrainingConfig(base);
    expect(r.ok && r.config).toMatchObject({
      type: "yolo",
      task: "detect",
      train: { epochs: 100, imgsz: 640, batch: 16, optimizer: "auto", lr0: 0.01 },
    });
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
    const issues = issuesOf({
      ...base,
      train: { ...base.train, epochs: 0, imgsz: 650, optimizer: "Adagrad", hsv_h: 2, workers: -1, device: "gpu" },
    });
    expect(Object.keys(issues).sort()).toEqual([
      "train.device",
      "train.epochs",
      "train.hsv_h",
      "train.imgsz",
      "train.optimizer",
      "train.workers",
    ]);
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
    const r = parseTrainingConfig(
      "model: yolov8n.pt\ntype: rtdetr\ntask_id: t1\ntrain:\n  data: d.yaml\n  batch: -1\nredis:\n  REDIS_PASSWORD: pw\nsweeper:\n  tune: false\n",
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ type: "rtdetr", task_id: "t1", train: { batch: -1 } });
    expect(JSON.stringify(r.config)).not.toContain("REDIS_PASSWORD");
    // One for `redis`, one saying `sweeper` with tune: false is one job.
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[1]).toContain("tune");
    expect(r.sweep).toBeUndefined();
  });

  it("refuses YAML nested deeper than 512 levels before parsing it (a deep parse can crash the process), and keeps real configs", () => {
    for (const text of ["[".repeat(20_000), "{a: ".repeat(5_000), "- ".repeat(5_000) + "x", "model: x\ntrain:\n  data: " + "[".repeat(513)])
      expect(issuesOf(text).config).toBe("Nested more than 512 levels deep");
    expect(yamlNestingExceeds("[".repeat(512))).toBe(false);
    // Brackets in quotes and comments do not count.
    expect(yamlNestingExceeds(`a: "${"[".repeat(100)}"\nb: '${"{".repeat(100)}' # ${"[".repeat(100)}`)).toBe(false);
    expect(yamlNestingExceeds("- a\n- - b\n  - c\nx: [1, [2, {y: 3}]]")).toBe(false);
  });

  it("refuses things that are not configs", () => {
    expect(issuesOf("- a\n- list").config).toContain("mapping");
    expect(issuesOf("x".repeat(100_001)).config).toContain("100 kB");
  });

  it("names prototype-ish keys plainly as unknown keys", () => {
    const issues = issuesOf(
      JSON.parse(
        '{"model":"yolo11n.pt","constructor":1,"train":{"data":"d.yaml","constructor":1,"toString":2,"__proto__":{"x":1},"hasOwnProperty":3}}',
      ),
    );
    expect(issues["train.constructor"]).toBe("Unknown key `constructor`");
    expect(issues["train.toString"]).toMatch(/^Unknown key `toString`/);
    expect(issues["train.hasOwnProperty"]).toMatch(/^Unknown key `hasOwnProperty`/);
    expect(issues["train.__proto__"]).toMatch(/^Unknown key `__proto__`/);
    expect(issues.constructor).toMatch(/^Unknown key `constructor`/);
    expect(JSON.stringify(issues)).not.toContain("native code");
  });
});

describe("paths in a training config are confined", () => {
  const ok = (patch: { model?: string; data?: string; pretrained?: unknown }) =>
    parseTrainingConfig({
      model: patch.model ?? "yolo11n.pt",
      train: { data: patch.data ?? "shapes/data.yaml", ...("pretrained" in patch ? { pretrained: patch.pretrained } : {}) },
    }).ok;

  it.each(["yolo11n.pt", "yolov8n.yaml", "yolo11n-seg.yml", "custom/v2/best.pt", "job:cabc123/best.pt", "job:cabc123/last.pt"])(
    "model %s is allowed",
    (model) => {
      expect(ok({ model })).toBe(true);
    },
  );

  it.each([
    "/etc/passwd.pt",
    "/srv/wyolo/jobs/cabc/train/weights/best.pt",
    "../jobs/cabc/train/weights/best.pt",
    "weights/../../x.pt",
    "a//b.pt",
    "a\\b.pt",
    "yolo\u0000.pt",
    "job:cabc123/other.pt",
    "job:../x/best.pt",
    "job:cabc123/best.pt/../x.pt",
    "job:/best.pt",
    "C:/x.pt",
    "yolo11n",
  ])("model %j is refused with a message naming the allowed forms", (model) => {
    const message = issuesOf({ model, train: { data: "shapes/data.yaml" } }).model;
    expect(message).toContain("yolo11n.pt");
    expect(message).toContain("job:<id>/best.pt");
  });

  it.each(["shapes/data.yaml", "coco8.yaml", "imagenet-mini", "a/b/c/data.yml"])("data %s is allowed", (data) => {
    expect(ok({ data })).toBe(true);
  });

  it.each([
    "/datasets/../x/data.yaml",
    "/etc/../../passwd",
    "../x/data.yaml",
    "shapes/../../x.yaml",
    "shapes/..",
    "a\\b.yaml",
    "x\u0000.yaml",
    "shapes//data.yaml",
  ])("data %j is refused, saying it is relative to DATASETS_DIR", (data) => {
    expect(issuesOf({ model: "yolo11n.pt", train: { data } })["train.data"]).toBe(
      "A path relative to the datasets directory (DATASETS_DIR), e.g. shapes/data.yaml: no absolute path, no `..`",
    );
  });

  it("takes pretrained as a boolean or a weights reference, nothing else", () => {
    for (const pretrained of [true, false, "yolo11n.pt", "job:cabc123/best.pt"])
      expect(ok({ model: "yolo11n.yaml", pretrained }), String(pretrained)).toBe(true);
    for (const pretrained of ["/tmp/x.pt", "../x.pt", "yolo11n.yaml", "job:cabc123/x.pt", 3]) {
      expect(issuesOf({ model: "yolo11n.yaml", train: { data: "d.yaml", pretrained } })["train.pretrained"], String(pretrained)).toContain(
        "job:<id>/best.pt",
      );
    }
  });

  it("parses job weights references", () => {
    expect(parseJobWeightsRef("job:cabc_1-2/best.pt")).toEqual({ jobId: "cabc_1-2", file: "best.pt" });
    expect(parseJobWeightsRef("job:cabc/last.pt")).toEqual({ jobId: "cabc", file: "last.pt" });
    for (const s of [
      "job:cabc/best.pt ",
      "job:cabc/best.pth",
      "jobs:cabc/best.pt",
      "job:ca/bc/best.pt",
      "yolo11n.pt",
      "job:cabc/../best.pt",
    ])
      expect(parseJobWeightsRef(s), s).toBeNull();
  });
});

describe("the sweeper block", () => {
  const cfg = { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 10 } };

  it("accepts the old service's block as it is, and resolves the defaults and the task's default space", () => {
    const r = parseTrainingConfig(
      "model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\nsweeper:\n  study_name: s1\n  n_trials: 8\n  tune: true\n  grace_period: 2\n  algorithm: optuna\n  direction: maximize\n  sampler: TPESampler\n",
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.sweep).toMatchObject({ study_name: "s1", n_trials: 8, grace_period: 2, sampler: "TPESampler", pruner: "successive_halving" });
    expect(r.sweep!.search_space.lr0).toEqual({ type: "float", low: 1e-5, high: 1e-1, log: true });
    expect(r.sweep!.search_space.box).toBeDefined();
    expect(JSON.stringify(r.config)).not.toContain("sweeper");
  });

  it("gives classification a space without detection losses", () => {
    const r = parseTrainingConfig({ ...cfg, model: "yolo11n-cls.pt", sweeper: { tune: true } });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.sweep!.search_space.box).toBeUndefined();
    expect(r.sweep!.search_space.lr0).toBeDefined();
  });

  it("validates the search space against the train arguments, naming each field", () => {
    const issues = issuesOf({
      ...cfg,
      sweeper: {
        tune: true,
        n_trails: 3,
        search_space: {
          lr: { type: "float", low: 0.001, high: 0.1 },
          lr0: { type: "float", low: 0.5, high: 2 },
          momentum: { type: "float", low: 0.9, high: 0.8 },
          optimizer: { type: "categorical", choices: ["SGD", "Lion"] },
          weight_decay: { type: "float", low: 0, high: 0.01, log: true },
          data: { type: "categorical", choices: ["a.yaml"] },
          imgsz: { type: "int", low: 320, high: 640, stpe: 32 },
        },
      },
    });
    expect(issues["sweeper.n_trails"]).toContain("`n_trials`");
    expect(issues["sweeper.search_space.lr"]).toContain("`lr0`");
    expect(issues["sweeper.search_space.lr0"]).toContain("2 is not a valid `lr0`");
    expect(issues["sweeper.search_space.momentum.high"]).toContain("greater than");
    expect(issues["sweeper.search_space.optimizer"]).toContain('"Lion"');
    expect(issues["sweeper.search_space.weight_decay.low"]).toContain("log scale");
    expect(issues["sweeper.search_space.data"]).toContain("cannot be searched");
    expect(issues["sweeper.search_space.imgsz.stpe"]).toContain("`step`");
  });

  it("refuses ranges whose inside values train would refuse", () => {
    const space = (search_space: object) => issuesOf({ ...cfg, sweeper: { tune: true, search_space } });
    expect(space({ imgsz: { type: "int", low: 320, high: 640 } })["sweeper.search_space.imgsz"]).toMatch(/^321 .*multiple of 32.*`step`/);
    expect(space({ patience: { type: "float", low: 10, high: 20 } })["sweeper.search_space.patience"]).toContain("inside the range");
    const ok = parseTrainingConfig({
      ...cfg,
      sweeper: {
        tune: true,
        search_space: { imgsz: { type: "int", low: 320, high: 640, step: 32 }, patience: { type: "int", low: 10, high: 20 } },
      },
    });
    expect(ok.ok).toBe(true);
    expect(space({ pretrained: { type: "categorical", choices: [true, "job:abc/best.pt"] } })["sweeper.search_space.pretrained"]).toContain(
      "true and false only",
    );
  });

  it("refuses a grid over continuous ranges, and samplers it does not know", () => {
    const grid = issuesOf({
      ...cfg,
      sweeper: { tune: true, sampler: "GridSampler", search_space: { lr0: { type: "float", low: 0.001, high: 0.1 } } },
    });
    expect(grid["sweeper.search_space.lr0"]).toContain("GridSampler");
    expect(issuesOf({ ...cfg, sweeper: { tune: true, sampler: "Bayes" } })["sweeper.sampler"]).toBeDefined();
  });
});

describe("platform defaults", () => {
  const defaults = { epochs: 30, batch: -1 };

  it("fill epochs and batch the config leaves out, and say so in `sources`", () => {
    const r = parseTrainingConfig(base, { defaults });
    if (!r.ok) throw new Error("expected ok");
    expect(r.config.train).toMatchObject({ epochs: 30, batch: -1 });
    expect(r.sources).toEqual({
      "train.epochs": "DEFAULT_EPOCHS",
      "train.batch": "DEFAULT_BATCH_SIZE",
      "train.workers": "ultralytics default",
    });
  });

  it("never override a value the user gave, which is not listed", () => {
    const r = parseTrainingConfig({ ...base, train: { ...base.train, epochs: 5, batch: 8, workers: 2 } }, { defaults });
    if (!r.ok) throw new Error("expected ok");
    expect(r.config.train).toMatchObject({ epochs: 5, batch: 8 });
    expect(r.sources).toEqual({});
  });

  it("fall back to Ultralytics' own defaults, named as such, and apply to YAML and sweeps alike", () => {
    const plain = parseTrainingConfig(base);
    expect(plain.ok && plain.sources).toEqual({
      "train.epochs": "ultralytics default",
      "train.batch": "ultralytics default",
      "train.workers": "ultralytics default",
    });
    const yaml = parseTrainingConfig("model: yolo11n.pt\ntrain:\n  data: d/data.yaml\n  batch: 4\nsweeper:\n  tune: true\n", {
      defaults: { epochs: 12 },
    });
    if (!yaml.ok) throw new Error("expected ok");
    expect(yaml.sweep).toBeDefined();
    expect(yaml.config.train).toMatchObject({ epochs: 12, batch: 4 });
    expect(yaml.sources).toEqual({ "train.epochs": "DEFAULT_EPOCHS", "train.workers": "ultralytics default" });
  });

  it("report a bad default naming its variable", () => {
    expect(issuesOfWith(base, { epochs: 0, batch: 1.5 })).toEqual({
      "train.epochs": expect.stringContaining("(the platform default DEFAULT_EPOCHS)"),
      "train.batch": expect.stringContaining("(the platform default DEFAULT_BATCH_SIZE)"),
    });
  });
});

function issuesOfWith(input: unknown, defaults: { epochs?: number; batch?: number }) {
  const r = parseTrainingConfig(input, { defaults });
  if (r.ok) throw new Error("expected issues");
  return Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
}

describe("the old service's config.yaml", () => {
  it("keeps a `logging:` block, any case, with INFO and simple when a field is left out", () => {
    const r = parseTrainingConfig({ ...base, logging: { level: "warn" } });
    expect(r.ok && r.config.logging).toEqual({ level: "WARNING", format: "simple" });
    const yaml = parseTrainingConfig(`model: yolo11n.pt\ntrain:\n  data: d/data.yaml\nlogging:\n  level: "debug"\n  format: "JSON"\n`);
    expect(yaml.ok && yaml.config.logging).toEqual({ level: "DEBUG", format: "json" });
    expect(yaml.ok && yaml.warnings).toEqual([]);
    const none = parseTrainingConfig(base);
    expect(none.ok && "logging" in none.config).toBe(false);
  });

  it("refuses a level or format it does not know, and unknown keys in `logging`", () => {
    const issues = issuesOf({ ...base, logging: { level: "TRACE", format: "xml", colour: true } });
    expect(issues["logging.level"]).toContain("DEBUG, INFO, WARNING, ERROR");
    expect(issues["logging.format"]).toContain("simple, detailed, json");
    expect(issues["logging.colour"]).toContain("Unknown key `colour`");
  });

  it("reads an absolute dataset path inside DATASETS_DIR, with a warning, and the old /datasets mount as its root", () => {
    const r = parseTrainingConfig({ ...base, train: { data: "/path/to/dataset.yaml" } });
    if (!r.ok) throw new Error("expected ok");
    expect(r.config.train.data).toBe("path/to/dataset.yaml");
    expect(r.warnings).toEqual([expect.stringContaining("`/path/to/dataset.yaml` is read as `path/to/dataset.yaml`")]);
    const mount = parseTrainingConfig({ ...base, train: { data: "/datasets/coco/data.yaml" } });
    expect(mount.ok && mount.config.train.data).toBe("coco/data.yaml");
    expect(issuesOf({ ...base, train: { data: "/datasets/../etc/passwd" } })["train.data"]).toContain("no absolute path");
  });

  it("says what Wyolo does instead of each infrastructure block", () => {
    const r = parseTrainingConfig({ ...base, mlflow: {}, minio: {}, redis: { TOPIC: "training_queue" } });
    expect(r.ok && r.warnings).toEqual([
      expect.stringContaining("MLFLOW_TRACKING_URI"),
      expect.stringContaining("S3_ENDPOINT"),
      expect.stringContaining("REDIS_URL"),
    ]);
  });

  it("refuses an RT-DETR image size it cannot train, naming the field (300 queries need (s/8)² + (s/16)² + (s/32)² ≥ 300 anchors)", () => {
    const rtdetr = { model: "rtdetr-l.yaml", type: "rtdetr", train: { data: "d/data.yaml" } };
    expect(issuesOf({ ...rtdetr, train: { ...rtdetr.train, imgsz: 96 } })["train.imgsz"]).toContain("RT-DETR needs imgsz ≥ 128");
    expect(parseTrainingConfig({ ...rtdetr, train: { ...rtdetr.train, imgsz: 128 } }).ok).toBe(true);
    // multi_scale trains down to half the size.
    expect(issuesOf({ ...rtdetr, train: { ...rtdetr.train, imgsz: 192, multi_scale: true } })["train.imgsz"]).toContain(
      "≥ 256 with multi_scale",
    );
    // An rtdetr architecture named with the default type is still RT-DETR; YOLO models keep the schema's 32.
    expect(issuesOf({ model: "rtdetr-l.yaml", train: { data: "d/data.yaml", imgsz: 64 } })["train.imgsz"]).toContain("≥ 128");
    expect(parseTrainingConfig({ ...base, train: { ...base.train, imgsz: 64 } }).ok).toBe(true);
    expect(rtdetrMinImgsz({ type: "yolo", model: "yolo11n.yaml", train: {} })).toBeNull();
  });
});
