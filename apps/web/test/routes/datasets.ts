import type { BaseWorld, World } from "../api-world";
import type { MatrixEntries, SuccessEntries } from "./types";

// The datasets routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.datasets).

const hash = (n: number) => n.toString(16).padStart(64, "0");

const STATS = {
  imagesPerSplit: { train: 2, val: 1 },
  instancesPerClass: [{ id: 0, name: "circle", count: 3, perSplit: { train: 2, val: 1 } }],
  corruptImages: 0,
  formats: { jpeg: 3 },
  imageWidths: { edges: [0, 128], counts: [3] },
  imageHeights: { edges: [0, 128], counts: [3] },
  boxAreas: { edges: [0, 1], counts: [3] },
  boxAspects: { edges: [0, 2], counts: [3] },
  backgroundImages: 0,
};
const REPORT = {
  ok: true,
  task: "detect",
  counts: { missing_label: 1 },
  issues: [{ severity: "warning", code: "missing_label", file: "images/val/c.jpg", message: "No label file: a background image" }],
};

/**
 * Dataset `circles` of the world's team (world.datasets.shapes): v1 READY (a job of its own trained from it), v2 READY made from
 * v1 (nobody used it), v3 VALIDATING (its upload complete), v4 UPLOADING; `scratch`, with one INVALID
 * version, which may be deleted whole; and `theirs` in the other team.
 */
export async function seed(base: BaseWorld) {
  const { db } = await import("@/server/db");
  const dataset = (teamId: string, name: string) => db.dataset.create({ data: { teamId, name }, select: { id: true } });
  // In parallel where nothing depends: the route-wide tests build a world per change.
  const [shapes, scratch, theirs] = await Promise.all([
    dataset(base.team.id, "circles"),
    dataset(base.team.id, "scratch"),
    dataset(base.otherTeam.id, "theirs"),
  ]);
  const ready = { status: "READY" as const, task: "detect", classNames: ["circle"], stats: STATS, report: REPORT, validatedAt: new Date() };
  const version = (datasetId: string, n: number, data: Record<string, unknown>) =>
    db.datasetVersion.create({
      data: { datasetId, version: n, manifestHash: hash(100 + n), fileCount: 4, totalBytes: 400n, ...data },
      select: { id: true },
    });
  const [v1, invalid, otherVersion] = await Promise.all([
    version(shapes.id, 1, ready),
    version(scratch.id, 1, { status: "INVALID", report: { ...REPORT, ok: false, fatal: "Not a zip or tar archive" } }),
    version(theirs.id, 1, ready),
  ]);
  const [v2, v3, v4] = await Promise.all([
    version(shapes.id, 2, { ...ready, parentId: v1.id, removedPaths: ["images/train/b.jpg"] }),
    version(shapes.id, 3, { status: "VALIDATING", uploadKey: "datasets/x/uploads/v3/a.zip", uploadName: "a.zip", uploadSize: 10n }),
    version(shapes.id, 4, {
      status: "UPLOADING",
      uploadKey: "datasets/x/uploads/v4/b.zip",
      uploadId: "upload-id",
      uploadName: "b.zip",
      uploadSize: 20_000_000n,
    }),
  ]);
  const image = (path: string, n: number, split: string) => ({
    path,
    sha256: hash(n),
    size: 100n,
    kind: "image",
    split,
    width: 128,
    height: 128,
    labels: [{ c: 0, box: [0.5, 0.5, 0.2, 0.2] }],
    classIds: [0],
  });
  const files = [image("images/train/a.jpg", 1, "train"), image("images/train/b.jpg", 2, "train"), image("images/val/c.jpg", 3, "val")];
  await Promise.all([
    db.datasetItem.createMany({ data: files.map((f) => ({ ...f, versionId: v1.id })) }),
    db.datasetItem.createMany({
      data: [
        { ...files[0]!, versionId: v2.id },
        { ...files[2]!, versionId: v2.id, sha256: hash(4), errorCount: 1 },
        { ...image("images/train/d.jpg", 5, "train"), versionId: v2.id },
      ],
    }),
    db.trainingJob.create({
      data: {
        projectId: base.project.id,
        createdById: base.actors.peer.id,
        name: "trained from circles@v1",
        config: { model: "yolo11n.pt", train: { data: "dataset:circles@v1", epochs: 1 } },
        status: "SUCCEEDED",
        model: "yolo11n.pt",
        totalEpochs: 1,
        datasetVersionId: v1.id,
      },
    }),
  ]);
  return {
    shapes: { id: shapes.id, v1: v1.id, v2: v2.id, v3: v3.id, v4: v4.id },
    scratch: { id: scratch.id, invalid: invalid.id },
    theirs: { id: theirs.id, v1: otherVersion.id },
  };
}

const teamParams = (w: World) => ({ teamId: w.team.id });
const shapes = (w: World) => ({ datasetId: w.datasets.shapes.id });
const v = (key: "v1" | "v2" | "v3" | "v4") => (w: World) => ({ versionId: w.datasets.shapes[key] });
const FROM_PARENT = { parent: 1, removedPaths: ["images/train/a.jpg"] };

export const success: SuccessEntries = {
  "GET teams/[teamId]/datasets": (w) => ({ params: teamParams(w) }),
  "POST teams/[teamId]/datasets": (w) => ({ params: teamParams(w), body: { name: "new-set", description: "Shapes again" } }),
  "GET teams/[teamId]/datasets/versions": (w) => ({ params: teamParams(w) }),
  "GET datasets/[datasetId]": (w) => ({ params: shapes(w) }),
  "PATCH datasets/[datasetId]": (w) => ({ params: shapes(w), body: { description: "Circles" } }),
  "DELETE datasets/[datasetId]": (w) => ({ params: { datasetId: w.datasets.scratch.id } }),
  "POST datasets/[datasetId]/versions": (w) => ({ params: shapes(w), body: FROM_PARENT }),
  "GET dataset-versions/[versionId]": (w) => ({ params: v("v2")(w) }),
  "PATCH dataset-versions/[versionId]": (w) => ({ params: v("v2")(w), body: { archived: true } }),
  "DELETE dataset-versions/[versionId]": (w) => ({ params: v("v2")(w) }),
  "GET dataset-versions/[versionId]/upload": (w) => ({ params: v("v3")(w) }),
  "DELETE dataset-versions/[versionId]/upload": (w) => ({ params: v("v4")(w) }),
  "POST dataset-versions/[versionId]/upload/parts": (w) => ({ params: v("v4")(w), body: { partNumbers: [1, 2] } }),
  "POST dataset-versions/[versionId]/upload/complete": (w) => ({ params: v("v3")(w), body: {} }),
  "GET dataset-versions/[versionId]/items": (w) => ({ params: v("v2")(w), query: "limit=2" }),
  "GET dataset-versions/[versionId]/diff": (w) => ({ params: v("v2")(w), query: "against=1" }),
};

const read = { kind: "team", permission: "dataset.read" } as const;
const upload = { kind: "team", permission: "dataset.upload" } as const;
const manage = { kind: "team", permission: "dataset.delete" } as const;

export const matrix: MatrixEntries = {
  "teams/[teamId]/datasets": {
    GET: { access: read, prepare: (w) => ({ params: teamParams(w) }) },
    POST: { access: upload, prepare: (w) => ({ params: teamParams(w), body: { name: "new-set" } }) },
  },
  "teams/[teamId]/datasets/versions": { GET: { access: read, prepare: (w) => ({ params: teamParams(w) }) } },
  "datasets/[datasetId]": {
    GET: { access: read, prepare: (w) => ({ params: shapes(w) }) },
    PATCH: { access: upload, prepare: (w) => ({ params: shapes(w), body: { description: "Circles" } }) },
    DELETE: { access: manage, prepare: (w) => ({ params: { datasetId: w.datasets.scratch.id } }) },
  },
  "datasets/[datasetId]/versions": { POST: { access: upload, prepare: (w) => ({ params: shapes(w), body: FROM_PARENT }) } },
  "dataset-versions/[versionId]": {
    GET: { access: read, prepare: (w) => ({ params: v("v1")(w) }) },
    PATCH: { access: manage, prepare: (w) => ({ params: v("v2")(w), body: { archived: true } }) },
    DELETE: { access: manage, prepare: (w) => ({ params: v("v2")(w) }) },
  },
  "dataset-versions/[versionId]/upload": {
    GET: { access: upload, prepare: (w) => ({ params: v("v3")(w) }) },
    DELETE: { access: upload, prepare: (w) => ({ params: v("v4")(w) }) },
  },
  "dataset-versions/[versionId]/upload/parts": {
    POST: { access: upload, prepare: (w) => ({ params: v("v4")(w), body: { partNumbers: [1] } }) },
  },
  "dataset-versions/[versionId]/upload/complete": { POST: { access: upload, prepare: (w) => ({ params: v("v3")(w), body: {} }) } },
  "dataset-versions/[versionId]/items": { GET: { access: read, prepare: (w) => ({ params: v("v1")(w) }) } },
  "dataset-versions/[versionId]/diff": { GET: { access: read, prepare: (w) => ({ params: v("v2")(w), query: "against=1" }) } },
};

/** Path parameters (beyond the shared world's) and bodies for the outage test's calls: v3 (VALIDATING) answers every GET without the object store. */
export const outageIds = (w: World): Record<string, string> => ({ datasetId: w.datasets.shapes.id, versionId: w.datasets.shapes.v3 });
export const outageBodies = (_w: World): Record<string, unknown> => ({
  "POST teams/[teamId]/datasets": { name: "outage-set" },
  "PATCH datasets/[datasetId]": { description: "Circles" },
  "POST datasets/[datasetId]/versions": FROM_PARENT,
  "PATCH dataset-versions/[versionId]": { archived: true },
  "POST dataset-versions/[versionId]/upload/parts": { partNumbers: [1] },
  "POST dataset-versions/[versionId]/upload/complete": {},
});
export const outageQueries = (_w: World): Record<string, string> => ({ "GET dataset-versions/[versionId]/diff": "against=1" });
/** Routes of this domain that need Redis (503 while it is away): they queue a validation. */
export const needsRedis: string[] = ["POST datasets/[datasetId]/versions", "POST dataset-versions/[versionId]/upload/complete"];
