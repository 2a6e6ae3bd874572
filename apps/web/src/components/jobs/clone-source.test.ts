import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { cloneSource } from "./clone-source";

describe("cloneSource", () => {
  it("drops task_id from a submitted YAML and keeps its comments", () => {
    const out = cloneSource({
      configSource: "# my run\nmodel: yolov8n.yaml\ntask_id: shapes-v1\ntrain:\n  data: shapes/data.yaml # demo\n  epochs: 3\n",
      config: {},
    });
    expect(out).toContain("# my run");
    expect(out).toContain("# demo");
    expect(parse(out)).toEqual({ model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs: 3 } });
  });

  it("drops a trial's sweep marks and task_id from a stored config", () => {
    const out = cloneSource({
      configSource: null,
      sweepId: "s1",
      config: { model: "yolo11n.yaml", task_id: "t", train: { data: "d.yaml" }, metadata: { sweep_id: "s1", trial: 3 } },
    });
    expect(parse(out)).toEqual({ model: "yolo11n.yaml", train: { data: "d.yaml" } });
  });

  it("keeps metadata that is the user's own, and JSON sources stay valid", () => {
    const out = cloneSource({ configSource: '{"model": "a.yaml", "task_id": "x", "metadata": {"owner": "me"}}', config: {} });
    expect(parse(out)).toEqual({ model: "a.yaml", metadata: { owner: "me" } });
  });
});
