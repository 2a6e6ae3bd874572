import { describe, expect, it } from "vitest";
import type { JobLogLine, LogLevel } from "@wyolo/contracts";
import { keepsLine } from "../src/training/job-recorder.ts";

// The lines the fake trainer's `eachLevel` sends, as the recorder receives them.
const LINES: [JobLogLine["stream"], string][] = [
  ["trainer", "[debug] level-probe trainer debug"],
  ["trainer", "[info] level-probe trainer info"],
  ["trainer", "[warning] level-probe trainer warning"],
  ["trainer", "[error] level-probe trainer error"],
  ["stdout", "level-probe stdout plain"],
  ["stdout", "WARNING ⚠️ level-probe stdout warning"],
  ["stdout", "level-probe stdout RuntimeError: an error line"],
  ["stderr", "level-probe stderr plain"],
  ["stderr", "level-probe stderr UserWarning: a warning line"],
];

describe("what a job's logging.level keeps", () => {
  it.each<[LogLevel | undefined, number[]]>([
    [undefined, [0, 1, 2, 3, 4, 5, 6, 7, 8]],
    ["DEBUG", [0, 1, 2, 3, 4, 5, 6, 7, 8]],
    ["INFO", [1, 2, 3, 4, 5, 6, 7, 8]],
    ["WARNING", [2, 3, 5, 6, 7, 8]],
    ["ERROR", [3, 6, 7]],
  ])("at %s", (level, kept) => {
    expect(LINES.flatMap(([stream, line], i) => (keepsLine(level, stream, line) ? [i] : []))).toEqual(kept);
  });

  it("keeps a trainer line without a level tag, and a traceback's lines at ERROR", () => {
    expect(keepsLine("ERROR", "trainer", "no tag here")).toBe(true);
    expect(keepsLine("ERROR", "stderr", '  File "train.py", line 3, in <module>')).toBe(true);
    expect(keepsLine("ERROR", "stdout", "      1/3  batch 2/4")).toBe(false);
  });
});
