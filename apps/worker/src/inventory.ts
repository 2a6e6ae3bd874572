import { closeSync, openSync, readSync, type Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { INVENTORY_MAX_DATASETS, INVENTORY_MAX_DEPTH, type DatasetEntry, type WorkerInventory } from "@wyolo/contracts";
import type { WorkerEnv } from "./env.ts";
import { datasetsRoot } from "./training/inputs.ts";

const IMAGE = /\.(png|jpe?g|bmp|webp|tiff?)$/i;
// Folders that hold a dataset's images or labels: never a dataset themselves, and often huge.
const SKIP = new Set(["images", "labels", "train", "val", "valid", "__pycache__", "node_modules"]);
/** Directory listings per scan, whatever the depth: a DATASETS_DIR with thousands of folders is cut short, saying so. */
const MAX_LISTINGS = 500;

const isDatasetYaml = (text: string) => /^train\s*:/m.test(text) && /^(names|nc)\s*:/m.test(text);

/**
 * What this worker can train from, for the submit form: `.pt` files in WEIGHTS_DIR (and under
 * WEIGHTS_S3_PREFIX of the object store), and the datasets under DATASETS_DIR — dataset YAMLs
 * and classification roots — at most INVENTORY_MAX_DEPTH folders deep and INVENTORY_MAX_DATASETS of them.
 */
export async function scanInventory(env: WorkerEnv): Promise<WorkerInventory> {
  const [local, remote, datasets] = await Promise.all([localWeights(env), remoteWeights(env), scanDatasets(datasetsRoot(env))]);
  return { weights: [...new Set([...local, ...remote])].sort(), ...datasets };
}

async function localWeights(env: WorkerEnv): Promise<string[]> {
  if (!env.WEIGHTS_DIR) return [];
  const entries = await readdir(path.resolve(env.WEIGHTS_DIR), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith(".pt")).map((e) => e.name);
}

/** Names directly under WEIGHTS_S3_PREFIX (one listing page); an object store that does not answer lists nothing. */
async function remoteWeights(env: WorkerEnv): Promise<string[]> {
  if (!env.WEIGHTS_S3_PREFIX || !env.S3_ENDPOINT) return [];
  const prefix = env.WEIGHTS_S3_PREFIX.replace(/^\/+/, "").replace(/([^/])$/, "$1/");
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    maxAttempts: 1,
    ...(env.S3_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } }
      : {}),
  });
  try {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: prefix, Delimiter: "/", MaxKeys: 200 }), {
      abortSignal: AbortSignal.timeout(5_000),
    });
    return (page.Contents ?? []).map((o) => (o.Key ?? "").slice(prefix.length)).filter((name) => /^[^/\\]+\.pt$/.test(name));
  } catch {
    return [];
  } finally {
    s3.destroy();
  }
}

export async function scanDatasets(root: string): Promise<{ datasets: DatasetEntry[]; truncated: boolean }> {
  const datasets: DatasetEntry[] = [];
  let listings = 0;
  let truncated = false;
  const list = async (dir: string): Promise<Dirent[] | null> => {
    if (listings >= MAX_LISTINGS) return ((truncated = true), null);
    listings++;
    return readdir(dir, { withFileTypes: true }).catch(() => null);
  };
  const add = (entry: DatasetEntry) => {
    if (datasets.length >= INVENTORY_MAX_DATASETS) truncated = true;
    else datasets.push(entry);
  };
  // Breadth first, so the shallow datasets are listed before a deep tree uses up the bounds.
  let level: { dir: string; rel: string }[] = [{ dir: root, rel: "" }];
  for (let depth = 0; depth < INVENTORY_MAX_DEPTH && level.length; depth++) {
    const next: typeof level = [];
    for (const { dir, rel } of level) {
      const entries = await list(dir);
      if (!entries) continue;
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.name.startsWith(".")) continue;
        const full = path.join(dir, e.name);
        const relPath = rel ? `${rel}/${e.name}` : e.name;
        if (e.isFile() && /\.ya?ml$/.test(e.name)) {
          const text = await readFile(full, "utf8").catch(() => "");
          if (text.length < 1_000_000 && isDatasetYaml(text)) add({ path: relPath, kind: "yaml", imgsz: await sizeHint(dir, list) });
        } else if (e.isDirectory() && !SKIP.has(e.name)) {
          if (await isClassifyRoot(full, list))
            add({ path: relPath, kind: "classify", imgsz: await sizeHint(path.join(full, "train"), list) });
          else next.push({ dir: full, rel: relPath });
        }
      }
    }
    level = next;
  }
  return { datasets, truncated };
}

/** train/ holding only folders (one per class) that hold images. */
async function isClassifyRoot(dir: string, list: (d: string) => Promise<Dirent[] | null>): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (!entries.some((e) => e.isDirectory() && e.name === "train")) return false;
  const classes = await list(path.join(dir, "train"));
  return !!classes?.length && classes.every((c) => c.isDirectory() || c.name.startsWith("."));
}

/** The image size for a dataset, from the first image found a few folders below `dir` (images/train, train/<class>, …). */
async function sizeHint(dir: string, list: (d: string) => Promise<Dirent[] | null>): Promise<number | undefined> {
  let here = dir;
  for (let depth = 0; depth < 3; depth++) {
    const entries = await list(here);
    if (!entries) return undefined;
    const image = entries.find((e) => e.isFile() && IMAGE.test(e.name));
    if (image) {
      const size = imageSize(path.join(here, image.name));
      return size ? Math.min(640, Math.max(32, Math.ceil(Math.max(size.width, size.height) / 32) * 32)) : undefined;
    }
    const sub =
      entries.find((e) => e.isDirectory() && e.name === "images") ??
      entries.find((e) => e.isDirectory() && e.name === "train") ??
      entries.find((e) => e.isDirectory() && !e.name.startsWith("."));
    if (!sub) return undefined;
    here = path.join(here, sub.name);
  }
  return undefined;
}

/** Width and height from a PNG or JPEG header (the first 64 kB), or null. */
export function imageSize(file: string): { width: number; height: number } | null {
  const buf = Buffer.alloc(65_536);
  let n: number;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    n = readSync(fd, buf, 0, buf.length, 0);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n >= 24 && buf.readUInt32BE(0) === 0x89504e47) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  if (n < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  for (let i = 2; i + 9 < n; ) {
    if (buf[i] !== 0xff) return null;
    const marker = buf.readUInt8(i + 1);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    i += 2 + buf.readUInt16BE(i + 2);
  }
  return null;
}
