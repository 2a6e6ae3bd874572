#!/usr/bin/env node
// Test fixture, never a default: the fake trainer (apps/worker/test/fixtures/fake-trainer.mjs) behind a
// check of what a job trained from a dataset version gets, as train.py would read it: WYOLO_DATA inside
// WYOLO_DATASET_CACHE_DIR, a data.yaml whose `path` holds every file of the entry's manifest with its
// sha256. What it saw goes to <run dir>/dataset-seen-<attempt>.json; a mismatch exits 2 before training.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";

if (!process.argv.includes("--check")) {
  const data = process.env.WYOLO_DATA;
  const cache = process.env.WYOLO_DATASET_CACHE_DIR;
  const problems = [];
  if (!data || !cache) problems.push("WYOLO_DATA / WYOLO_DATASET_CACHE_DIR not set");
  else {
    if (!realpathSync(data).startsWith(realpathSync(cache) + path.sep)) problems.push(`${data} is outside ${cache}`);
    const entry = path.dirname(data);
    const root = /^path: (.*)$/m.exec(readFileSync(data, "utf8"))?.[1];
    const files = root ? JSON.parse(root) : null;
    if (files !== path.join(entry, "files")) problems.push(`data.yaml's path is ${root}`);
    const manifest = JSON.parse(readFileSync(path.join(entry, "manifest.json"), "utf8"));
    for (const f of manifest.files) {
      const local = path.join(entry, "files", ...f.path.split("/"));
      if (!existsSync(local)) problems.push(`${f.path} missing`);
      else if (createHash("sha256").update(readFileSync(local)).digest("hex") !== f.sha256) problems.push(`${f.path} differs`);
    }
    const runDir = process.env.WYOLO_RUN_DIR;
    const attempt = readdirSync(runDir).filter((n) => n.startsWith("dataset-seen-")).length + 1;
    writeFileSync(
      path.join(runDir, `dataset-seen-${attempt}.json`),
      JSON.stringify({ data, cache, files: manifest.files.length, problems }),
    );
  }
  if (problems.length) {
    process.stderr.write(`dataset check failed: ${problems.slice(0, 5).join("; ")}\n`);
    process.exit(2);
  }
}
await import(new URL("../../apps/worker/test/fixtures/fake-trainer.mjs", import.meta.url).href);
