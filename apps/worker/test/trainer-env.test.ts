import { describe, expect, it } from "vitest";
import { trainerEnv } from "../src/training/trainer-env.ts";

describe("trainer environment", () => {
  it("keeps what training needs and drops the worker's secrets", () => {
    const env = trainerEnv(
      {
        PATH: "/usr/bin",
        HOME: "/home/wyolo",
        PYTHONPATH: "/opt/ultralytics",
        LD_LIBRARY_PATH: "/usr/local/cuda/lib64",
        NVIDIA_VISIBLE_DEVICES: "all",
        DATABASE_URL: "postgresql://u:p@db/wyolo",
        REDIS_URL: "redis://:pw@redis:6379",
        MLFLOW_TRACKING_URI: "http://mlflow:5000",
        MLFLOW_TRACKING_PASSWORD: "pw",
        S3_SECRET_ACCESS_KEY: "s3",
        AWS_ACCESS_KEY_ID: "id",
        NEXTAUTH_SECRET: "x",
        SOME_API_TOKEN: "t",
        HF_TOKEN: "t",
      },
      { WYOLO_JOB_ID: "j1", CUDA_VISIBLE_DEVICES: "0" },
    );
    expect(Object.keys(env).sort()).toEqual([
      "CUDA_VISIBLE_DEVICES",
      "HOME",
      "LD_LIBRARY_PATH",
      "NVIDIA_VISIBLE_DEVICES",
      "PATH",
      "PYTHONPATH",
      "PYTHONUNBUFFERED",
      "WYOLO_JOB_ID",
    ]);
  });
});
