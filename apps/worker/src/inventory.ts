import { closeSync, openSync, readSync, type Dirent } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { INVENTORY_MAX_DATASETS, INVENTORY_MAX_DEPTH, type DatasetEntry, type WorkerInventory } from "@wyolo/contracts";
import type { WorkerEnv } from "./env.ts";
import { datasetsRoot } from "./training/inputs.ts";

const IMAGE = /\.(png|jpe?g|bmp|webp|tiff?)$/i;
// Folders that hold a dataset's images or labels: never a dataset themselves, and often huge.
const SKIP = new Set(["images", "labels", "train", "val", "valid", "__pycache__", "node_modules"]);
/** Directory listings per scan, whatever the depth: a DATASETS_DIR with thousands of folders is cut short, saying so. */
export const MAX_LISTINGS = 500;

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

type Dir = { full: string; real: string };
/** An entry with symlinks followed: what it is and where it really lies. */
type Found = { full: string; real: string; isDir: boolean };
type Scan = { list: (dir: string) => Promise<Dirent[] | null>; follow: (dir: Dir, e: Dirent) => Promise<Found | null> };

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

export async function scanDatasets(root: string): Promise<{ datasets: DatasetEntry[]; truncated: boolean }> {
  const datasets: DatasetEntry[] = [];
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return { datasets, truncated: false };
  let listings = 0;
  let truncated = false;
  const list = async (dir: string): Promise<Dirent[] | null> => {
    if (listings >= MAX_LISTINGS) return ((truncated = true), null);
    listings++;
    return readdir(dir, { withFileTypes: true }).catch(() => null);
  };
  /** Symlinks (a common layout: datasets linked in from elsewhere) are followed, but only while they stay under the root. */
  const follow = async (dir: Dir, e: Dirent): Promise<Found | null> => {
    const full = path.join(dir.full, e.name);
    if (!e.isSymbolicLink())
      return e.isFile() || e.isDirectory() ? { full, real: path.join(dir.real, e.name), isDir: e.isDirectory() } : null;
    const real = await realpath(full).catch(() => null);
    if (!real || !inside(realRoot, real)) return null;
    const st = await stat(real).catch(() => null);
    return st && (st.isFile() || st.isDirectory()) ? { full, real, isDir: st.isDirectory() } : null;
  };
  const add = (entry: DatasetEntry) => {
    if (datasets.length >= INVENTORY_MAX_DATASETS) truncated = true;
    else datasets.push(entry);
  };
  const scan: Scan = { list, follow };
  // Each folder is listed once, whatever links lead to it: no cycles, no double work.
  const visited = new Set([realRoot]);
  const rootEntries = await list(root);
  // Breadth first, so the shallow datasets are listed before a deep tree uses up the bounds.
  let level: (Dir & { rel: string; entries: Dirent[] })[] = rootEntries
    ? [{ full: root, real: realRoot, rel: "", entries: rootEntries }]
    : [];
  for (let depth = 0; depth < INVENTORY_MAX_DEPTH && level.length; depth++) {
    const next: typeof level = [];
    for (const dir of level) {
      dir.entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of dir.entries) {
        if (e.name.startsWith(".")) continue;
        const relPath = dir.rel ? `${dir.rel}/${e.name}` : e.name;
        const isYaml = /\.ya?ml$/.test(e.name);
        // Only YAMLs and folders matter here; a plain file or a linked image costs no lookup.
        if (!isYaml && (SKIP.has(e.name) || e.isFile() || IMAGE.test(e.name))) continue;
        const found = await follow(dir, e);
        if (!found) continue;
        if (!found.isDir && isYaml) {
          if (await isDatasetYaml(found.real)) add({ path: relPath, kind: "yaml", imgsz: await sizeHint(dir, scan) });
        } else if (found.isDir && !visited.has(found.real)) {
          visited.add(found.real);
          const entries = await list(found.full);
          if (!entries) continue;
          const train = await classifyTrain(found, entries, scan);
          if (train) add({ path: relPath, kind: "classify", imgsz: await sizeHint(train, scan) });
          else next.push({ ...found, rel: relPath, entries });
        }
      }
    }
    level = next;
  }
  return { datasets, truncated };
}

/** A YAML with `train:` and `names:`/`nc:`; its size is checked before it is read, so a huge file costs nothing. */
async function isDatasetYaml(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => null);
  if (!st || st.size >= 1_000_000) return false;
  const text = await readFile(file, "utf8").catch(() => "");
  return /^train\s*:/m.test(text) && /^(names|nc)\s*:/m.test(text);
}

/** The train/ folder of a classification root: one holding only folders (one per class) that hold images; else null. */
async function classifyTrain(dir: Dir, entries: Dirent[], scan: Scan): Promise<Found | null> {
  const entry = entries.find((e) => e.name === "train");
  const train = entry && (await scan.follow(dir, entry));
  if (!train?.isDir) return null;
  const classes = await scan.list(train.full);
  if (!classes?.length) return null;
  for (const c of classes) if (!c.name.startsWith(".") && !(await scan.follow(train, c))?.isDir) return null;
  return train;
}

/** The image size for a dataset, from the first image found a few folders below `dir` (images/train, train/<class>, …). */
async function sizeHint(dir: Dir, scan: Scan): Promise<number | undefined> {
  let here = dir;
  for (let depth = 0; depth < 3; depth++) {
    const entries = await scan.list(here.full);
    if (!entries) return undefined;
    const image = await firstFound(here, entries, scan, (e) => IMAGE.test(e.name), false);
    if (image) {
      const size = imageSize(image.real);
      return size ? Math.min(640, Math.max(32, Math.ceil(Math.max(size.width, size.height) / 32) * 32)) : undefined;
    }
    const sub =
      (await firstFound(here, entries, scan, (e) => e.name === "images", true)) ??
      (await firstFound(here, entries, scan, (e) => e.name === "train", true)) ??
      (await firstFound(here, entries, scan, (e) => !e.name.startsWith("."), true));
    if (!sub) return undefined;
    here = sub;
  }
  return undefined;
}

/** The first entry that matches and is a folder (or a file), symlinks followed; only entries that could be links cost a lookup. */
async function firstFound(dir: Dir, entries: Dirent[], scan: Scan, match: (e: Dirent) => boolean, isDir: boolean) {
  for (const e of entries) {
    if (!match(e) || !(e.isSymbolicLink() || (isDir ? e.isDirectory() : e.isFile()))) continue;
    const found = await scan.follow(dir, e);
    if (found && found.isDir === isDir) return found;
  }
  return null;
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
