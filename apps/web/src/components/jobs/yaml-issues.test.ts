import { describe, expect, it } from "vitest";
import { parseTrainingConfig } from "@wyolo/contracts";
import { placeIssues } from "./yaml-issues";

const YAML = ["model: yolov8n.yaml", "train:", "  data: shapes/data.yaml", "  epochs: -3", "  imgsz: 128", ""].join("\n");

describe("placeIssues", () => {
  it("puts the schema's issue on the line of its key, underlining the value", () => {
    const check = parseTrainingConfig(YAML);
    expect(check.ok).toBe(false);
    const placed = placeIssues(YAML, check.ok ? [] : check.issues);
    const epochs = placed.find((p) => p.path === "train.epochs")!;
    expect(epochs.line).toBe(4);
    expect(YAML.slice(epochs.from, epochs.to)).toBe("epochs: -3");
  });

  it("a missing key points at its parent's key; a missing top-level key at the first line", () => {
    const text = "train:\n  epochs: 3\n";
    const placed = placeIssues(text, [
      { path: "train.data", message: "Required" },
      { path: "model", message: "Required" },
    ]);
    expect(placed.map((p) => [p.line, text.slice(p.from, p.to)])).toEqual([
      [1, "train"],
      [1, "train:"],
    ]);
  });

  it("items of a list by index, and invalid YAML by the parser's position", () => {
    const list = "train:\n  classes:\n    - 1\n    - x\n";
    expect(placeIssues(list, [{ path: "train.classes.1", message: "Expected number" }])[0]).toMatchObject({ line: 4 });
    const broken = "model: a.yaml\ntrain:\n  data: [unclosed\n";
    const [err] = placeIssues(broken, []);
    expect(err!.message).toMatch(/^Not valid YAML/);
    expect(err!.line).toBeGreaterThanOrEqual(3);
  });
});
