// Dataset validation throughput: the worker's validator (apps/worker/datasets/validate_dataset.py,
// run and parsed as the validate-dataset job does) on a generated detection set of BENCH_IMAGES
// images (default 10,000 at BENCH_IMAGE_SIZE 320x240, two boxes each), in images/s. References
// measured in the same run, on the same files: SHA-256 of every image (Node, one core) and a bare
// Pillow decode of every image (im.load(), no draft scaling) with the same number of processes.
// Prints one JSON line. Needs a Python with Pillow and PyYAML (BENCH_PYTHON, default /usr/bin/python3).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runValidator } from "../apps/worker/src/datasets/validator.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const PYTHON = process.env.BENCH_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const IMAGES = Number(process.env.BENCH_IMAGES ?? 10_000);
const SIZE = process.env.BENCH_IMAGE_SIZE ?? "320x240";
const PROCS = Number(process.env.BENCH_VALIDATOR_PROCS ?? Math.min(8, os.cpus().length));
const info = (msg: string) => console.error(`bench: ${msg}`);
const round = (n: number) => Math.round(n * 10) / 10;

const probe = spawnSync(PYTHON, ["-c", "import PIL, yaml"], { encoding: "utf8" });
if (probe.status !== 0) {
  console.log(JSON.stringify({ name: "dataset_validation", skipped: `${PYTHON} cannot import Pillow and PyYAML` }));
  process.exit(0);
}

const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-validate-"));
try {
  const root = path.join(dir, "set");
  const val = Math.round(IMAGES / 10);
  info(`generating ${IMAGES.toLocaleString("en-US")} images (${SIZE})…`);
  const made = spawnSync(
    PYTHON,
    [
      "apps/worker/datasets/tests/dataset_factory.py",
      root,
      "--task",
      "detect",
      "--train",
      String(IMAGES - val),
      "--val",
      String(val),
      "--size",
      SIZE,
    ],
    { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (made.status !== 0) throw new Error(made.stderr);
  const images = ["train", "val"].flatMap((s) => readdirSync(path.join(root, "images", s)).map((f) => path.join(root, "images", s, f)));
  const bytes = images.reduce((n, f) => n + readFileSync(f).length, 0);

  // The page cache holds the files for all three passes: a first read warms it.
  let t = performance.now();
  for (const f of images) createHash("sha256").update(readFileSync(f)).digest();
  const hashS = (performance.now() - t) / 1000;

  info(`validating with ${PROCS} processes…`);
  t = performance.now();
  const out = await runValidator({
    command: `${PYTHON} apps/worker/datasets/validate_dataset.py`,
    root,
    outFile: path.join(dir, "validation.json"),
    procs: PROCS,
    timeoutMs: 3_600_000,
  });
  const validateS = (performance.now() - t) / 1000;
  if (!out.report.ok || out.stats.imagesPerSplit.train !== IMAGES - val)
    throw new Error(`unexpected report: ${JSON.stringify(out.report).slice(0, 500)}`);

  const decodeScript = [
    "import sys, os",
    "from concurrent.futures import ProcessPoolExecutor",
    "from PIL import Image",
    "def load(p):",
    "    with Image.open(p) as im: im.load()",
    "    return 1",
    "files = sys.stdin.read().split('\\n')",
    "with ProcessPoolExecutor(int(sys.argv[1])) as pool: print(sum(pool.map(load, files, chunksize=64)))",
  ].join("\n");
  t = performance.now();
  const decoded = spawnSync(PYTHON, ["-c", decodeScript, String(PROCS)], { input: images.join("\n"), encoding: "utf8" });
  const decodeS = (performance.now() - t) / 1000;
  if (decoded.status !== 0 || Number(decoded.stdout.trim()) !== images.length)
    throw new Error(`reference decode failed: ${decoded.stderr}`);

  console.log(
    JSON.stringify({
      name: "dataset_validation",
      images: images.length,
      image_size: SIZE,
      megabytes: round(bytes / 1024 / 1024),
      processes: PROCS,
      seconds: round(validateS),
      images_per_s: Math.round(images.length / validateS),
      reference_sha256_images_per_s: Math.round(images.length / hashS),
      reference_pillow_decode_images_per_s: Math.round(images.length / decodeS),
      // > 1: the validator (decode at 1/8 DCT scale + labels + stats + report) is faster than a bare full decode.
      vs_bare_decode: round(decodeS / validateS),
      report_issues: out.report.issues.length,
      items: out.items.length,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
