import { describe, expect, it } from "vitest";
import { forgetUpload, pendingUploads, recordPart, rememberUpload, sameFile, type PendingUpload } from "./pending-uploads";

function memoryStorage(initial?: string) {
  const data = new Map<string, string>(initial === undefined ? [] : [["wyolo.dataset-uploads", initial]]);
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
}

const upload = (patch: Partial<PendingUpload>): PendingUpload => ({
  datasetId: "d1",
  versionId: "v1",
  version: 1,
  fileName: "shapes.zip",
  size: 100,
  lastModified: 5,
  folder: false,
  startedAt: "2026-12-01T00:00:00.000Z",
  parts: [],
  ...patch,
});

describe("pending uploads", () => {
  it("remembers per dataset, replaces the same version, forgets", () => {
    const s = memoryStorage();
    rememberUpload(s, upload({}));
    rememberUpload(s, upload({ versionId: "v2", version: 2 }));
    rememberUpload(s, upload({ versionId: "x", datasetId: "d2" }));
    rememberUpload(s, upload({ size: 200 }));
    expect(pendingUploads(s, "d1").map((p) => [p.versionId, p.size])).toEqual([
      ["v2", 100],
      ["v1", 200],
    ]);
    forgetUpload(s, "v1");
    expect(pendingUploads(s, "d1").map((p) => p.versionId)).toEqual(["v2"]);
  });

  it("keeps each stored part's ETag, in part order, once", () => {
    const s = memoryStorage();
    rememberUpload(s, upload({}));
    recordPart(s, "v1", { partNumber: 2, size: 10, etag: '"b"' });
    recordPart(s, "v1", { partNumber: 1, size: 10, etag: '"a"' });
    recordPart(s, "v1", { partNumber: 2, size: 10, etag: '"b2"' });
    recordPart(s, "other", { partNumber: 1, size: 10, etag: '"x"' });
    expect(pendingUploads(s, "d1")[0]!.parts).toEqual([
      { partNumber: 1, size: 10, etag: '"a"' },
      { partNumber: 2, size: 10, etag: '"b2"' },
    ]);
  });

  it("an entry missing its parts list reads with none", () => {
    const { parts: _, ...old } = upload({});
    expect(pendingUploads(memoryStorage(JSON.stringify([old])), "d1")[0]!.parts).toEqual([]);
  });

  it("garbage in storage reads as nothing", () => {
    expect(pendingUploads(memoryStorage("{nope"), "d1")).toEqual([]);
    expect(pendingUploads(memoryStorage('{"a":1}'), "d1")).toEqual([]);
  });

  it("a storage that refuses writes does not break the upload", () => {
    const s = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException("full", "QuotaExceededError");
      },
    };
    expect(() => rememberUpload(s, upload({}))).not.toThrow();
  });

  it("matches the same file by name, size and mtime", () => {
    const file = new File(["x".repeat(100)], "shapes.zip", { lastModified: 5 });
    expect(sameFile(upload({}), file)).toBe(true);
    expect(sameFile(upload({ lastModified: 6 }), file)).toBe(false);
    expect(sameFile(upload({ size: 99 }), file)).toBe(false);
  });
});
