import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { INVENTORY_MAX_DATASETS, modelKind } from "@wyolo/contracts";
import { imageSize, MAX_LISTINGS, scanDatasets, scanInventory } from "./inventory.ts";
import type { WorkerEnv } from "./env.ts";

const root = mkdtempSync(path.join(tmpdir(), "wyolo-inventory-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string | Buffer = "") => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
};
/** A PNG header of the given size: enough for imageSize. */
const png = (w: number, h: number) => {
  const b = Buffer.alloc(33);
  b.writeUInt32BE(0x89504e47, 0);
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
};

describe("worker inventory", () => {
  it("finds dataset YAMLs and classification roots with an image size from their first image, and skips what is neither", async () => {
    const dir = path.join(root, "a");
    write("a/shapes/data.yaml", "path: .\ntrain: images/train\nval: images/val\nnames: [circle, square]\n");
    write("a/shapes/images/train/0.png", png(128, 96));
    write("a/flowers/train/rose/0.png", png(300, 200));
    write("a/flowers/val/rose/0.png", png(300, 200));
    write("a/notes/config.yaml", "model: yolo11n.yaml\n");
    write("a/deep/er/still/x/data.yaml", "train: a\nnc: 1\n");
    write("a/.hidden/data.yaml", "train: a\nnc: 1\n");
    const { datasets } = await scanDatasets(dir);
    expect(datasets).toEqual([
      { path: "flowers", kind: "classify", imgsz: 320 },
      { path: "shapes/data.yaml", kind: "yaml", imgsz: 128 },
    ]);
  });

  it("stops at INVENTORY_MAX_DATASETS and says so", async () => {
    for (let i = 0; i < INVENTORY_MAX_DATASETS + 5; i++) write(`b/set${String(i).padStart(3, "0")}.yaml`, "train: x\nnames: [a]\n");
    const { datasets, truncated } = await scanDatasets(path.join(root, "b"));
    expect(datasets).toHaveLength(INVENTORY_MAX_DATASETS);
    expect(truncated).toBe(true);
  });

  it("follows linked dataset folders and YAMLs while they stay under the root; links that lead out, dangle or loop are left out", async () => {
    const dir = path.join(root, "links");
    write("links/pool/shapes-v2/data.yaml", "train: images/train\nnames: [a]\n");
    write("links/pool/shapes-v2/images/train/0.png", png(128, 96));
    write("links/pool/flowers/train/rose/0.png", png(300, 200));
    write("links/configs/.keep");
    write("links/loop/.keep");
    write("elsewhere/data.yaml", "train: x\nnc: 1\n");
    write("elsewhere/cls/train/a/0.png", png(64, 64));
    symlinkSync("pool/shapes-v2", path.join(dir, "latest"));
    symlinkSync("pool/flowers", path.join(dir, "flowers-link"));
    symlinkSync("../pool/shapes-v2/data.yaml", path.join(dir, "configs/coco.yaml"));
    symlinkSync(path.join(root, "elsewhere"), path.join(dir, "outside"));
    symlinkSync(path.join(root, "elsewhere/cls"), path.join(dir, "outside-cls"));
    symlinkSync(path.join(root, "elsewhere/data.yaml"), path.join(dir, "outside.yaml"));
    symlinkSync("nowhere", path.join(dir, "gone"));
    symlinkSync("..", path.join(dir, "loop/back"));
    symlinkSync(".", path.join(dir, "loop/self"));
    const { datasets, truncated } = await scanDatasets(dir);
    // Each real folder is read once, under the first name met breadth first: pool/… are the linked ones, and
    // loop/back (the root again) would otherwise list loop/back/latest/data.yaml and so on.
    expect(datasets).toEqual([
      { path: "flowers-link", kind: "classify", imgsz: 320 },
      { path: "configs/coco.yaml", kind: "yaml", imgsz: undefined },
      { path: "latest/data.yaml", kind: "yaml", imgsz: 128 },
    ]);
    expect(truncated).toBe(false);
  });

  it("a DATASETS_DIR that is itself a link is followed", async () => {
    write("real-root/shapes/data.yaml", "train: x\nnames: [a]\n");
    symlinkSync(path.join(root, "real-root"), path.join(root, "root-link"));
    expect((await scanDatasets(path.join(root, "root-link"))).datasets).toEqual([
      { path: "shapes/data.yaml", kind: "yaml", imgsz: undefined },
    ]);
  });

  it("a YAML of 1 MB or more is left out, judged by its size before it is read", async () => {
    write("big/huge.yaml", "train: x\nnames: [a]\n" + "#".repeat(1_000_000));
    write("big/small.yaml", "train: x\nnames: [a]\n");
    expect((await scanDatasets(path.join(root, "big"))).datasets.map((d) => d.path)).toEqual(["small.yaml"]);
  });

  it("every folder read counts against the listing bound, the classification check too", async () => {
    // MAX_LISTINGS + 10 folders on the last level the scan looks at: each is read once to see whether it is a
    // classification root, and the scan stops at the bound, saying so.
    for (let i = 0; i < MAX_LISTINGS + 10; i++) mkdirSync(path.join(root, `many/x/y/f${String(i).padStart(4, "0")}`), { recursive: true });
    const { truncated } = await scanDatasets(path.join(root, "many"));
    expect(truncated).toBe(true);
  });

  it("lists the .pt files of WEIGHTS_DIR; a missing DATASETS_DIR lists nothing", async () => {
    write("w/yolo11n.pt", "x");
    write("w/notes.txt", "x");
    const inv = await scanInventory({
      WEIGHTS_DIR: path.join(root, "w"),
      DATASETS_DIR: path.join(root, "none"),
      WORKER_DATA_DIR: root,
    } as WorkerEnv);
    expect(inv).toEqual({ weights: ["yolo11n.pt"], datasets: [], truncated: false });
  });

  it("reads PNG and JPEG sizes", () => {
    write("img/a.png", png(640, 480));
    expect(imageSize(path.join(root, "img/a.png"))).toEqual({ width: 640, height: 480 });
    // A real JPEG, when an encoder is at hand (Debian's python3 with PIL); else the PNG case stands alone.
    try {
      execFileSync("/usr/bin/python3", [
        "-c",
        `from PIL import Image; Image.new("RGB", (200, 150)).save("${path.join(root, "img/b.jpg")}")`,
      ]);
    } catch {
      console.warn("no PIL under /usr/bin/python3: JPEG header case not checked");
      return;
    }
    expect(imageSize(path.join(root, "img/b.jpg"))).toEqual({ width: 200, height: 150 });
  });

  it("names the task and type a model file implies", () => {
    expect(modelKind("yolo11n-seg.pt")).toEqual({ task: "segment", type: "yolo" });
    expect(modelKind("yolov8s-cls.yaml")).toEqual({ task: "classify", type: "yolo" });
    expect(modelKind("rtdetr-l.pt")).toEqual({ task: "detect", type: "rtdetr" });
    expect(modelKind("custom.pt")).toEqual({ task: "detect", type: "yolo" });
  });
});
