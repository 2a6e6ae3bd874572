import { describe, expect, it } from "vitest";
import { oldVariableWarnings, parseByteSize } from "../src/env.ts";

describe("the old service's environment", () => {
  it("names each old variable that is set and the Wyolo variable to set instead", () => {
    const warnings = oldVariableWarnings({
      MINIO_ID: "id",
      MINIO_SECRET_KEY: "key",
      MINIO_ENDPOINT: "http://localhost:23444",
      REDIS_HOST: "localhost",
      REDIS_PORT: "23438",
      REDIS_PASSWORD: "pw",
      TOPIC: "train",
      MAX_GPU: "60",
      MLFLOW_TRACKING_URI: "http://localhost:23435",
      WORKER_CPU_CORES: "4",
    });
    expect(warnings).toEqual([
      "`MINIO_ID` is not used by Wyolo: set S3_ACCESS_KEY_ID",
      "`MINIO_SECRET_KEY` is not used by Wyolo: set S3_SECRET_ACCESS_KEY",
      "`MINIO_ENDPOINT` is not used by Wyolo: set S3_ENDPOINT",
      "`REDIS_HOST` is not used by Wyolo: set REDIS_URL (redis://[:password@]host:port)",
      "`REDIS_PORT` is not used by Wyolo: set REDIS_URL (redis://[:password@]host:port)",
      "`REDIS_PASSWORD` is not used by Wyolo: set REDIS_URL (redis://:password@host:port)",
      "`TOPIC` is not used by Wyolo: set TRAINING_QUEUE",
    ]);
  });

  it("says nothing for an environment without them (empty values count as unset)", () => {
    expect(oldVariableWarnings({ REDIS_URL: "redis://x", MINIO_ID: "" })).toEqual([]);
  });

  it("reads memory sizes as Docker Compose writes them", () => {
    expect(parseByteSize("8G")).toBe(8 * 1024 ** 3);
    expect(parseByteSize("512M")).toBe(512 * 1024 ** 2);
    expect(parseByteSize("512m")).toBe(512 * 1024 ** 2);
    expect(parseByteSize("16GB")).toBe(16 * 1024 ** 3);
    expect(parseByteSize("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize("1048576")).toBe(1048576);
    expect(parseByteSize("2k")).toBe(2048);
    for (const bad of ["", "G", "8X", "-1G", "0", "eight"]) expect(parseByteSize(bad)).toBeNull();
  });
});
