import {
  PRIORITIES as SERVER_PRIORITIES,
  SWEEP_TERMINAL_STATUSES,
  TERMINAL_STATUSES,
  TOKEN_PREFIX,
  type ExportSummary,
  type JobEpochRow,
  type JobLogLine,
  type JobSummary,
  type SweepSummary,
  type SweepTrialRow,
} from "@wyolo/contracts";
import { describe, expect, it } from "vitest";
import {
  PRIORITIES,
  SWEEP_TERMINAL,
  TERMINAL,
  type EpochRow,
  type ExportRow,
  type Job,
  type LogLine,
  type Sweep,
  type SweepTrial,
} from "../src/types.ts";

// The CLI ships without @wyolo/contracts; these assignments fail the typecheck when the server's
// types drift away from what the CLI reads.
const fits = <T>(value: T) => value;
export const typeChecks = (s: {
  job: JobSummary;
  epoch: JobEpochRow;
  log: JobLogLine;
  exp: ExportSummary;
  sweep: SweepSummary;
  trial: SweepTrialRow;
}) => [
  fits<Job>(s.job),
  fits<EpochRow>(s.epoch),
  fits<LogLine>(s.log),
  fits<ExportRow>(s.exp),
  fits<Sweep>(s.sweep),
  fits<SweepTrial>(s.trial),
];

describe("the CLI's copies of the server's constants", () => {
  it("match contracts", () => {
    expect([...TERMINAL].sort()).toEqual([...TERMINAL_STATUSES].sort());
    expect([...SWEEP_TERMINAL].sort()).toEqual([...SWEEP_TERMINAL_STATUSES].sort());
    expect(PRIORITIES).toEqual(SERVER_PRIORITIES);
    expect(TOKEN_PREFIX).toBe("wyolo_");
  });
});
