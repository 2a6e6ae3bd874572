import { describe, expect, it } from "vitest";
import { bytes, duration, EpochTable, progressLine, table } from "../src/format.ts";
import { apiError } from "../src/api.ts";
import { errorLine, EXIT, outcomeExitCode } from "../src/errors.ts";

const row = (epoch: number, metrics: Record<string, number>, losses: Record<string, number> = {}) => ({
  epoch,
  losses,
  metrics,
  lr: { "lr/pg0": 0.01 },
  epochTime: 1.5,
});

describe("epoch table", () => {
  it("detect: train losses and the box mAPs, one header, epochs as n/total", () => {
    const t = new EpochTable(() => 10);
    const first = t.lines(
      row(
        1,
        { "metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.25, "metrics/precision(B)": 0.7, fitness: 0.27 },
        { "train/box_loss": 1.5, "train/cls_loss": 2, "val/box_loss": 1.7 },
      ),
    );
    expect(first).toHaveLength(2);
    expect(first[0]!.trim().split(/\s+/)).toEqual(["epoch", "box_loss", "cls_loss", "mAP50(B)", "mAP50-95(B)", "time"]);
    expect(first[1]!.trim().split(/\s+/)).toEqual(["1/10", "1.5000", "2.0000", "0.5000", "0.2500", "1.5s"]);
    const second = t.lines(row(2, { "metrics/mAP50(B)": 0.6 }, { "train/box_loss": 1.2 }));
    expect(second).toHaveLength(1);
    // A value missing from an epoch prints as "-", and columns stay aligned under the header.
    expect(second[0]!.trim().split(/\s+/)).toEqual(["2/10", "1.2000", "-", "0.6000", "-", "1.5s"]);
    expect(second[0]!.indexOf("0.6000") + 6).toBe(first[0]!.indexOf("mAP50(B)") + 8);
  });

  it("classify: top-1 / top-5", () => {
    const [header] = new EpochTable(() => 3).lines(
      row(1, { "metrics/accuracy_top1": 0.4, "metrics/accuracy_top5": 0.9 }, { "train/loss": 1 }),
    );
    expect(header!.trim().split(/\s+/)).toEqual(["epoch", "loss", "accuracy_top1", "accuracy_top5", "time"]);
  });
});

describe("formatting", () => {
  it("table pads every column but the last", () => {
    expect(table(["A", "LONGER"], [["xyz", "1"]])).toBe("A    LONGER\nxyz  1");
  });
  it("durations and sizes", () => {
    expect([duration(5), duration(65), duration(3725), duration(null)]).toEqual(["5s", "1m05s", "1h02m", "-"]);
    expect([bytes(512), bytes(2048), bytes(6.5 * 1024 * 1024)]).toEqual(["512 B", "2.0 KB", "6.5 MB"]);
  });
  it("progress line: bar, epochs, ETA while running", () => {
    const line = progressLine({ status: "RUNNING", currentEpoch: 5, totalEpochs: 10, progress: 0.5, etaSeconds: 80 }, 80);
    expect(line).toMatch(/^\[█+░+\] 5\/10 epochs · ETA 1m20s · RUNNING$/);
    expect(line.match(/█/g)!.length).toBe(line.match(/░/g)!.length);
    expect(progressLine({ status: "RUNNING", currentEpoch: 10, totalEpochs: 10, progress: 1, etaSeconds: 0 })).toMatch(
      /^\[█+\] 10\/10 epochs · finishing… · RUNNING$/,
    );
    expect(progressLine({ status: "QUEUED", currentEpoch: null, totalEpochs: 3, progress: 0, etaSeconds: null })).toMatch(
      /^\[░+\] 0\/3 epochs · QUEUED$/,
    );
  });
});

describe("errors", () => {
  it("the server's message and field messages on one line, exit code by status", () => {
    const body = JSON.stringify({
      error: {
        code: "VALIDATION_FAILED",
        message: "The training config is invalid",
        fields: { "config.train.epochs": ["At least 1"], "config.model": ["Required"] },
      },
    });
    const err = apiError(422, body, "/api/v1/projects/p/jobs");
    expect(err.exitCode).toBe(EXIT.ERROR);
    expect(errorLine(err)).toBe("The training config is invalid: config.train.epochs: At least 1; config.model: Required");
    expect(apiError(401, JSON.stringify({ error: { code: "UNAUTHENTICATED", message: "This token has expired" } }), "/x")).toMatchObject({
      exitCode: EXIT.AUTH,
      message: expect.stringMatching(/^This token has expired/),
    });
    expect(apiError(503, JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "Redis is unavailable" } }), "/x").exitCode).toBe(
      EXIT.UNAVAILABLE,
    );
    // Not the API's envelope (a proxy's HTML page): the status and path, never the page.
    expect(apiError(404, "<html>nope</html>", "/api/v1/jobs/x").message).toBe("HTTP 404 from /api/v1/jobs/x");
  });
  it("outcomes", () => {
    expect(["SUCCEEDED", "COMPLETED", "FAILED", "CANCELLED"].map(outcomeExitCode)).toEqual([0, 0, 1, 2]);
  });
});
