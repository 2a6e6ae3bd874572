import { describe, expect, it } from "vitest";
import { aliasSchema, modelNameSchema, updateProjectSchema } from "@wyolo/contracts";
import { canonicalJson, configHash, versionTags } from "../src/model-registry.ts";

describe("config hash", () => {
  it("is the same for the same config whatever its key order, and differs when a value does", () => {
    const a = { model: "yolo11n.pt", train: { epochs: 10, imgsz: 640, data: "d/data.yaml" } };
    const b = { train: { data: "d/data.yaml", imgsz: 640, epochs: 10 }, model: "yolo11n.pt" };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(configHash({ ...a, train: { ...a.train, epochs: 11 } })).not.toBe(configHash(a));
    expect(canonicalJson({ x: undefined, y: [1, { b: 2, a: 1 }] })).toBe('{"y":[1,{"a":1,"b":2}]}');
  });
});

describe("MLflow version tags", () => {
  it("carry the lineage and the best epoch's finite metrics, with MLflow-safe names; nulls are left out", () => {
    const tags = versionTags({
      id: "v_1",
      version: 2,
      lineage: {
        jobId: "job_1",
        jobName: "first",
        model: "yolo11n.pt",
        task: "detect",
        epochs: 3,
        bestEpoch: 2,
        dataset: "stars@v1",
        datasetVersionId: null,
        configHash: "ab",
      },
      metrics: { "metrics/mAP50-95(B)": 0.3141592, "metrics/precision(B)": null, fitness: Number.NaN },
    });
    const byKey = Object.fromEntries(tags.map((t) => [t.key, t.value]));
    expect(byKey).toMatchObject({ "wyolo.version_id": "v_1", "wyolo.version": "2", "wyolo.dataset": "stars@v1", "wyolo.best_epoch": "2" });
    expect(byKey["wyolo.metric.metrics/mAP50-95B"]).toBe("0.314159");
    expect(Object.keys(byKey)).not.toContain("wyolo.dataset_version_id");
    expect(Object.keys(byKey).some((k) => k.includes("precision") || k.includes("fitness"))).toBe(false);
  });
});

describe("registry input rules", () => {
  it("aliases follow MLflow: letters, digits, _ and -, at most 64, never latest or v<N>", () => {
    for (const ok of ["champion", "staging_2", "A-b"]) expect(aliasSchema.safeParse(ok).success).toBe(true);
    for (const bad of ["", "Champion!", "a b", "latest", "V3", "x".repeat(65)]) expect(aliasSchema.safeParse(bad).success).toBe(false);
  });
  it("model names allow / (the default is <team>/<project>); the settings take null or '' for the default", () => {
    expect(modelNameSchema.safeParse("team-a/detector").success).toBe(true);
    expect(modelNameSchema.safeParse("/lead").success).toBe(false);
    expect(updateProjectSchema.parse({ modelName: "" })).toEqual({ modelName: null });
    expect(updateProjectSchema.parse({ registerModels: false })).toEqual({ registerModels: false });
    expect(updateProjectSchema.safeParse({}).success).toBe(false);
  });
});
