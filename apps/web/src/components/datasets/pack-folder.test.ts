import { describe, expect, it } from "vitest";
import { strFromU8, unzipSync } from "fflate";
import { archiveName, isArchiveName, isJunk, packFolder, storeWithoutDeflate, type FolderFile } from "./pack-folder";

const folder = (): FolderFile[] => [
  { path: "shapes/labels/train/a.txt", file: new File(["0 0.5 0.5 0.2 0.2\n"], "a.txt", { lastModified: 1_700_000_000_000 }) },
  { path: "shapes/data.yaml", file: new File(["names: [circle]\n"], "data.yaml", { lastModified: 1_700_000_100_000 }) },
  { path: "shapes/images/train/a.jpg", file: new File([new Uint8Array(3000).fill(7)], "a.jpg", { lastModified: 1_700_000_000_000 }) },
  { path: "shapes/.DS_Store", file: new File(["junk"], ".DS_Store") },
  { path: "shapes/__MACOSX/._a.jpg", file: new File(["junk"], "._a.jpg") },
];

describe("packFolder", () => {
  it("zips every file under its folder path, desktop junk left out", async () => {
    const zip = await packFolder(folder());
    expect(zip.name).toBe("shapes.zip");
    const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    expect(Object.keys(entries).sort()).toEqual(["shapes/data.yaml", "shapes/images/train/a.jpg", "shapes/labels/train/a.txt"]);
    expect(strFromU8(entries["shapes/data.yaml"]!)).toBe("names: [circle]\n");
    expect(entries["shapes/images/train/a.jpg"]).toEqual(new Uint8Array(3000).fill(7));
  });

  it("the same folder packs to the same bytes, whatever the order it came in (resume matches it)", async () => {
    const a = new Uint8Array(await (await packFolder(folder())).arrayBuffer());
    const b = new Uint8Array(await (await packFolder(folder().reverse())).arrayBuffer());
    expect(Buffer.compare(a, b)).toBe(0);
    expect((await packFolder(folder())).lastModified).toBe(1_700_000_100_000);
  });

  it("the same bytes however the browser chunks a file's stream", async () => {
    // A File whose stream() hands out its bytes in chunks of a size given per read.
    const chunked = (file: File, sizes: () => number): File =>
      ({
        name: file.name,
        size: file.size,
        lastModified: file.lastModified,
        arrayBuffer: () => file.arrayBuffer(),
        stream: () => {
          let offset = 0;
          const all = file.arrayBuffer().then((b) => new Uint8Array(b));
          return new ReadableStream<Uint8Array>({
            pull: async (c) => {
              const bytes = await all;
              if (offset >= bytes.length) return c.close();
              const n = sizes();
              c.enqueue(bytes.slice(offset, offset + n));
              offset += n;
            },
          });
        },
      }) as unknown as File;
    const big = (n: number) => new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 7919 + n) % 251);
    const files = (sizes: () => number): FolderFile[] =>
      [
        ...folder(),
        { path: "shapes/notes.bin", file: new File([big(1)], "notes.bin", { lastModified: 1_700_000_000_000 }) },
        { path: "shapes/small.bin", file: new File([big(2).slice(0, 300_000)], "small.bin", { lastModified: 1_700_000_000_000 }) },
      ].map((f) => ({ ...f, file: chunked(f.file, sizes) }));
    let k = 0;
    const a = new Uint8Array(await (await packFolder(files(() => 65_536))).arrayBuffer());
    const b = new Uint8Array(await (await packFolder(files(() => [1000, 77_777, 333, 250_000][k++ % 4]!))).arrayBuffer());
    expect(b.length).toBe(a.length);
    expect(Buffer.compare(a, b), "byte for byte").toBe(0);
    expect(Object.keys(unzipSync(a))).toContain("shapes/notes.bin");
  });

  it("reports progress up to every byte", async () => {
    const seen: number[] = [];
    await packFolder(folder(), (p) => seen.push(p.bytes / p.totalBytes));
    expect(seen.at(-1)).toBe(1);
  });

  it("an empty folder (or only junk) is refused", async () => {
    await expect(packFolder([{ path: "x/.DS_Store", file: new File(["j"], ".DS_Store") }])).rejects.toThrow("no files");
  });

  it("a cancel stops it", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(packFolder(folder(), undefined, abort.signal)).rejects.toThrow("cancelled");
  });
});

describe("names", () => {
  it("archive name from the shared folder", () => {
    expect(archiveName(["a/x", "a/y/z"])).toBe("a.zip");
    expect(archiveName(["a/x", "b/y"])).toBe("dataset.zip");
  });
  it("junk, stored and archive names", () => {
    expect(isJunk("s/.DS_Store")).toBe(true);
    expect(isJunk("s/__MACOSX/x")).toBe(true);
    expect(isJunk("s/images/a.jpg")).toBe(false);
    expect(storeWithoutDeflate("a/B.JPG")).toBe(true);
    expect(storeWithoutDeflate("a/b.txt")).toBe(false);
    expect(["a.zip", "a.tar", "a.tar.gz", "a.tgz", "a.rar"].map(isArchiveName)).toEqual([true, true, true, true, false]);
  });
});
