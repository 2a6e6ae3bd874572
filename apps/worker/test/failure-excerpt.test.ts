import { describe, expect, it } from "vitest";
import { isExcerptNoise } from "../src/training/job-recorder.ts";

// What Ultralytics 8.3.186 prints at its first import with a fresh YOLO_CONFIG_DIR (every job has its own).
const SETTINGS_LINES = [
  "Creating new Ultralytics Settings v0.0.6 file ✅ ",
  "View Ultralytics Settings with 'yolo settings' or at '/data/run/.ultralytics/settings.json'",
  "Update Settings with 'yolo settings key=value', i.e. 'yolo settings runs_dir=path/to/dir'. For help see https://docs.ultralytics.com/quickstart/#ultralytics-settings.",
  "WARNING ⚠️ Ultralytics settings reset to default values. This may be due to a possible problem with your settings",
];

describe("the failure excerpt", () => {
  it("leaves out Ultralytics' settings notices and blank lines, keeps the cause", () => {
    for (const line of SETTINGS_LINES) expect(isExcerptNoise(line)).toBe(true);
    expect(isExcerptNoise("")).toBe(true);
    expect(isExcerptNoise("! ")).toBe(true);
    expect(isExcerptNoise("! RuntimeError: Dataset 'shapes' error ❌ [Errno 21] Is a directory: 'shapes'")).toBe(false);
    expect(isExcerptNoise("[error] Dataset 'x' is a folder without a data.yaml")).toBe(false);
  });
});
