import { describe, expect, it } from "vitest";
import type { DatasetReport } from "@wyolo/contracts";
import { codeCounts, filterIssues, issueWhere } from "./report-filter";

const report: DatasetReport = {
  ok: false,
  task: "detect",
  counts: { class_out_of_range: 250, missing_label: 3, corrupt_image: 1 },
  issues: [
    { severity: "error", code: "class_out_of_range", file: "labels/train/a.txt", line: 2, message: "class 7 ≥ nc 3" },
    { severity: "error", code: "class_out_of_range", file: "labels/train/b.txt", line: 1, message: "class 9 ≥ nc 3" },
    { severity: "warning", code: "missing_label", file: "images/val/C.jpg", message: "no label file (background)" },
    { severity: "error", code: "corrupt_image", file: "images/train/z.jpg", message: "truncated JPEG" },
  ],
};

describe("filterIssues", () => {
  const all = { severity: "all" as const, code: "", text: "" };
  it("by severity", () =>
    expect(filterIssues(report.issues, { ...all, severity: "warning" }).map((i) => i.code)).toEqual(["missing_label"]));
  it("by code", () => expect(filterIssues(report.issues, { ...all, code: "class_out_of_range" })).toHaveLength(2));
  it("by text in the file or the message, any case", () => {
    expect(filterIssues(report.issues, { ...all, text: "c.JPG" }).map((i) => i.file)).toEqual(["images/val/C.jpg"]);
    expect(filterIssues(report.issues, { ...all, text: "truncated" }).map((i) => i.code)).toEqual(["corrupt_image"]);
  });
});

describe("codeCounts", () => {
  it("all occurrences and those listed, errors first by count", () => {
    expect(codeCounts(report)).toEqual([
      { code: "class_out_of_range", severity: "error", count: 250, shown: 2 },
      { code: "corrupt_image", severity: "error", count: 1, shown: 1 },
      { code: "missing_label", severity: "warning", count: 3, shown: 1 },
    ]);
  });
});

describe("issueWhere", () => {
  it("file:line, file, or a dash", () => {
    expect(issueWhere(report.issues[0]!)).toBe("labels/train/a.txt:2");
    expect(issueWhere(report.issues[2]!)).toBe("images/val/C.jpg");
    expect(issueWhere({ severity: "error", code: "bad_yaml", message: "x" })).toBe("—");
  });
});
