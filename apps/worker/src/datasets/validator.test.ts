import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runValidator } from "./validator.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "wyolo-validator-"));
  // A stand-in validator: valid output whose `names` are the environment's keys.
  await writeFile(
    path.join(dir, "env-validator.mjs"),
    `import { writeFileSync } from "node:fs";
const out = process.argv[process.argv.indexOf("--out") + 1];
const histogram = { edges: [], counts: [] };
writeFileSync(out, JSON.stringify({
  report: { ok: true, task: null, counts: {}, issues: [] },
  stats: { imagesPerSplit: {}, instancesPerClass: [], corruptImages: 0, formats: {}, imageWidths: histogram, imageHeights: histogram, backgroundImages: 0 },
  task: null,
  names: Object.keys(process.env),
  splits: {},
  items: [],
}));
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("runValidator", () => {
  it("runs the validator without the worker's secrets", async () => {
    const out = await runValidator({
      command: `${process.execPath} ${path.join(dir, "env-validator.mjs")}`,
      root: dir,
      outFile: path.join(dir, "out.json"),
      timeoutMs: 30_000,
      env: {
        PATH: process.env.PATH,
        HOME: "/home/worker",
        DATABASE_URL: "postgres://u:p@db/wyolo",
        REDIS_URL: "redis://redis:6379",
        SECRETS_KEY: "k",
        S3_ACCESS_KEY_ID: "id",
        S3_SECRET_ACCESS_KEY: "secret",
        AWS_SECRET_ACCESS_KEY: "secret",
        MLFLOW_TRACKING_URI: "http://mlflow",
        NEXTAUTH_SECRET: "s",
      },
    });
    expect(out.names).toEqual(expect.arrayContaining(["PATH", "HOME"]));
    for (const key of [
      "DATABASE_URL",
      "REDIS_URL",
      "SECRETS_KEY",
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
      "AWS_SECRET_ACCESS_KEY",
      "MLFLOW_TRACKING_URI",
      "NEXTAUTH_SECRET",
    ])
      expect(out.names).not.toContain(key);
  });
});
