import { describe, expect, it } from "vitest";
import { isRetryableStatus, s3Status } from "../src/retryable.ts";
import { isTransient } from "../src/artifacts/store.ts";
import { MlflowError } from "../src/mlflow/client.ts";

describe("one rule for retrying", () => {
  it.each([
    [undefined, true],
    [0, true],
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [403, false],
    [404, false],
  ])("status %s retryable: %s, for S3 and MLflow alike", (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
    expect(
      isTransient(
        status === undefined ? new Error("ECONNREFUSED") : Object.assign(new Error("s3"), { $metadata: { httpStatusCode: status } }),
      ),
    ).toBe(retryable);
    if (status) expect(new MlflowError(status, "X", "m").permanent).toBe(!retryable);
  });

  it("reads an S3 error's status, and none from other errors", () => {
    expect(s3Status(Object.assign(new Error("x"), { $metadata: { httpStatusCode: 403 } }))).toBe(403);
    expect(s3Status(new Error("x"))).toBeUndefined();
    expect(s3Status(null)).toBeUndefined();
  });
});
