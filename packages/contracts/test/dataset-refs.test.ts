import { describe, expect, it } from "vitest";
import {
  createVersionSchema,
  datasetDiffQuerySchema,
  datasetUploadPartCount,
  DATASET_UPLOAD_PART_BYTES,
  listModelVersionsQuerySchema,
  parseTrainingConfig,
  setAliasSchema,
} from "../src/index.ts";

const config = (data: string) => ({ model: "yolo11n.pt", train: { data, epochs: 1 } });

describe("train.data names a dataset version", () => {
  it.each(["dataset:shapes@v1", "dataset:shapes@3", "dataset:my.set-2@latest"])("%s is accepted as it is", (data) => {
    const parsed = parseTrainingConfig(config(data));
    expect(parsed.ok && parsed.config.train.data).toBe(data);
  });

  it.each(["dataset:shapes", "dataset:Shapes@v1", "dataset:shapes@vX", "dataset:../x@v1"])("%s is refused with the ref's form", (data) => {
    const parsed = parseTrainingConfig(config(data));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.find((i) => i.path === "train.data")?.message).toMatch(/dataset:<name>@v<N>/);
  });

  it("paths under DATASETS_DIR keep working", () => {
    const parsed = parseTrainingConfig(config("shapes/data.yaml"));
    expect(parsed.ok && parsed.config.train.data).toBe("shapes/data.yaml");
  });
});

describe("a version's request", () => {
  it("needs an archive or a parent, and removals need a parent", () => {
    const none = createVersionSchema.safeParse({});
    expect(none.success).toBe(false);
    const removalsAlone = createVersionSchema.safeParse({ file: { name: "a.zip", size: 10 }, removedPaths: ["x.jpg"] });
    expect(removalsAlone.error?.issues.map((i) => i.path.join("."))).toEqual(["removedPaths"]);
    expect(createVersionSchema.safeParse({ parent: 1, removedPaths: ["images/train/a.jpg"] }).success).toBe(true);
  });

  it("takes archives only, and no path outside the version", () => {
    expect(createVersionSchema.safeParse({ file: { name: "a.rar", size: 10 } }).success).toBe(false);
    expect(createVersionSchema.safeParse({ file: { name: "a.tar.gz", size: 10 } }).success).toBe(true);
    expect(createVersionSchema.safeParse({ parent: 1, removedPaths: ["../etc/passwd"] }).success).toBe(false);
  });

  it("splits an upload into 16 MiB parts, the last one shorter", () => {
    expect(datasetUploadPartCount(1)).toBe(1);
    expect(datasetUploadPartCount(DATASET_UPLOAD_PART_BYTES)).toBe(1);
    expect(datasetUploadPartCount(DATASET_UPLOAD_PART_BYTES + 1)).toBe(2);
  });
});

describe("version numbers fit the database's integer column (larger ones are 422, never a 500 from Postgres)", () => {
  const INT_MAX = 2_147_483_647;
  const message = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
    r.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

  it("a dataset version's parent and a diff's `against`", () => {
    expect(createVersionSchema.safeParse({ parent: INT_MAX, removedPaths: ["a.jpg"] }).success).toBe(true);
    expect(message(createVersionSchema.safeParse({ parent: 3_000_000_000, removedPaths: ["a.jpg"] }))).toEqual([
      "parent: No such version number",
    ]);
    expect(datasetDiffQuerySchema.safeParse({ against: String(INT_MAX) }).success).toBe(true);
    expect(message(datasetDiffQuerySchema.safeParse({ against: "3000000000" }))).toEqual(["against: No such version number"]);
  });

  it("a model alias's version and the versions page's `before`", () => {
    expect(setAliasSchema.safeParse({ version: INT_MAX }).success).toBe(true);
    expect(message(setAliasSchema.safeParse({ version: 3_000_000_000 }))).toEqual(["version: No such version number"]);
    expect(listModelVersionsQuerySchema.safeParse({ before: String(INT_MAX) }).success).toBe(true);
    expect(message(listModelVersionsQuerySchema.safeParse({ before: "3000000000" }))).toEqual(["before: No such version number"]);
  });
});
