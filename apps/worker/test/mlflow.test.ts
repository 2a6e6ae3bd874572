import { describe, expect, it } from "vitest";
import { chunk, configParams, mlflowKey } from "../src/mlflow/client.ts";
import { epochMetrics } from "../src/mlflow/tracker.ts";

describe("MLflow mapping", () => {
  it("makes Ultralytics metric names MLflow-safe, deterministically", () => {
    expect(mlflowKey("metrics/mAP50(B)")).toBe("metrics/mAP50B");
    expect(mlflowKey("metrics/mAP50-95(M)")).toBe("metrics/mAP50-95M");
    expect(mlflowKey("lr/pg0")).toBe("lr/pg0");
    expect(mlflowKey("()")).toBe("_");
  });

  it("flattens the resolved config into string params within MLflow's limits", () => {
    const params = configParams({
      model: "yolo11n.pt",
      type: "yolo",
      task: "detect",
      train: { epochs: 3, batch: -1, classes: [0, 2], data: "x".repeat(7000) },
    });
    expect(Object.fromEntries(params.map((p) => [p.key, p.value]))).toMatchObject({
      model: "yolo11n.pt",
      epochs: "3",
      batch: "-1",
      classes: "[0,2]",
    });
    expect(params.find((p) => p.key === "data")!.value.length).toBe(6000);
    expect(
      chunk(
        Array.from({ length: 250 }, (_, i) => i),
        100,
      ).map((c) => c.length),
    ).toEqual([100, 100, 50]);
  });

  it("turns an epoch into metrics with step = epoch, skipping nulls", () => {
    const metrics = epochMetrics(
      {
        epoch: 4,
        losses: { "train/box_loss": 1.5 },
        metrics: { "metrics/mAP50(B)": 0.4, "metrics/recall(B)": null },
        lr: { "lr/pg0": 0.001 },
        epochTime: 2.5,
      },
      1000,
    );
    expect(metrics).toEqual([
      { key: "train/box_loss", value: 1.5, timestamp: 1000, step: 4 },
      { key: "metrics/mAP50B", value: 0.4, timestamp: 1000, step: 4 },
      { key: "lr/pg0", value: 0.001, timestamp: 1000, step: 4 },
      { key: "epoch_time_s", value: 2.5, timestamp: 1000, step: 4 },
    ]);
  });
});

describe("MLflow artifact proxy uploads", () => {
  it("puts a file under the run's mlflow-artifacts root, with or without an authority in the URI", async () => {
    const { MlflowDouble } = await import("../../../test/mlflow/mlflow-double.ts");
    const { MlflowClient } = await import("../src/mlflow/client.ts");
    const { Readable } = await import("node:stream");
    const double = new MlflowDouble();
    const client = new MlflowClient(await double.start());
    try {
      const bytes = Buffer.from("weights bytes");
      await client.uploadArtifact("mlflow-artifacts:/1/abc/artifacts", "weights/best.pt", Readable.from([bytes]), bytes.length);
      await client.uploadArtifact(
        "mlflow-artifacts://mlflow:5000/2/def/artifacts/",
        "exports/onnx/best model.onnx",
        Readable.from([bytes]),
        bytes.length,
      );
      expect([...double.artifacts.keys()]).toEqual(["1/abc/artifacts/weights/best.pt", "2/def/artifacts/exports/onnx/best model.onnx"]);
      expect(double.artifacts.get("1/abc/artifacts/weights/best.pt")!.toString()).toBe("weights bytes");
    } finally {
      await double.stop();
    }
  });
});
