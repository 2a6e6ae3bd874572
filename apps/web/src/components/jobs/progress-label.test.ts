import { describe, expect, it } from "vitest";
import type { JobSummary } from "@wyolo/contracts";
import { progressLabel } from "./progress-label";

const job = (patch: Partial<JobSummary>) =>
  ({ status: "RUNNING", attempt: 1, currentEpoch: 3, totalEpochs: 10, etaSeconds: 65, ...patch }) as JobSummary;

describe("progressLabel", () => {
  it("an ETA while epochs remain", () => expect(progressLabel(job({}))).toBe("epoch 3/10 · ETA 1m 5s"));
  it("finishing… after the last epoch, never ETA 0s", () => {
    expect(progressLabel(job({ currentEpoch: 10, etaSeconds: 0 }))).toBe("epoch 10/10 · finishing…");
    expect(progressLabel(job({ currentEpoch: 9, etaSeconds: 0.2 }))).toBe("epoch 9/10");
  });
  it("queued and ended jobs", () => {
    expect(progressLabel(job({ status: "QUEUED", attempt: 0 }))).toBe("waiting for a worker");
    expect(progressLabel(job({ status: "SUCCEEDED", currentEpoch: 10 }))).toBe("epoch 10/10");
  });
});
