import { existsSync } from "node:fs";
import path from "node:path";
import type { WorkerEnv } from "../env.ts";
import { withRetryWindow, type ArtifactStore } from "../artifacts/store.ts";

/**
 * Where the trainer finds a job's named weights (`model: yolo11n.pt`): WEIGHTS_DIR when it has
 * the file, else a cached copy from WEIGHTS_S3_PREFIX in the object store. Architectures (.yaml)
 * and paths are left to the trainer. `problem` says, for the job's failure, where it looked.
 */
export async function locateWeights(
  model: string,
  env: WorkerEnv,
  store: ArtifactStore | undefined,
): Promise<{ dir?: string; fetched?: string } | { problem: string }> {
  const weightsDir = env.WEIGHTS_DIR ? path.resolve(env.WEIGHTS_DIR) : undefined;
  if (!/^[^/\\]+\.pt$/.test(model) || (weightsDir && existsSync(path.join(weightsDir, model))) || !env.WEIGHTS_S3_PREFIX || !store) {
    // The trainer resolves it (and fails fast, saying where it looked, when it is missing).
    return { dir: weightsDir };
  }
  const prefix = env.WEIGHTS_S3_PREFIX.replace(/^\/+/, "").replace(/([^/])$/, "$1/");
  const key = `${prefix}${model}`;
  const cache = path.resolve(env.WORKER_DATA_DIR, "weights");
  let found: boolean;
  try {
    // An object store that is briefly away is waited for; one that stays away fails the job, saying so.
    found = await withRetryWindow(() => store.fetchCached(key, path.join(cache, model)), 60_000);
  } catch (err) {
    return { problem: `Weights '${model}' could not be fetched from s3://${env.S3_BUCKET}/${key}: ${(err as Error).message}` };
  }
  if (found) return { dir: cache, fetched: key };
  const stem = model.replace(/\.pt$/, "");
  return {
    problem: `Weights '${model}' are not available: not in WEIGHTS_DIR (${weightsDir ?? "not configured"}) nor at s3://${env.S3_BUCKET}/${key}. Put the file in one of them, or train from an architecture such as ${stem}.yaml`,
  };
}
