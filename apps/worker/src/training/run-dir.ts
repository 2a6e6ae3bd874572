import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { withRetryWindow, type ArtifactStore } from "../artifacts/store.ts";

export type RunDir = { runDir: string; saveDir: string; stopFile: string };

export const runDirOf = (env: WorkerEnv, jobId: string): RunDir => {
  const runDir = path.resolve(env.WORKER_DATA_DIR, "jobs", jobId);
  return { runDir, saveDir: path.join(runDir, "train"), stopFile: path.join(runDir, "STOP") };
};

/**
 * The job's run directory on this worker. Picked up again on a worker whose disk lacks the job's
 * checkpoint (another host): the last one uploaded to the object store lets it resume rather
 * than start over.
 */
export async function prepareRunDir(
  env: WorkerEnv,
  jobId: string,
  resumed: boolean,
  deps: { artifacts?: ArtifactStore; log: Logger; note: (kind: string, message: string) => Promise<unknown> },
): Promise<RunDir> {
  const dirs = runDirOf(env, jobId);
  mkdirSync(dirs.runDir, { recursive: true });
  if (resumed && deps.artifacts && !existsSync(path.join(dirs.saveDir, "weights", "last.pt"))) {
    const store = deps.artifacts;
    const names = ["weights/last.pt", "weights/best.pt", "results.csv", "args.yaml"];
    // A brief object-store hiccup is waited out (a minute) rather than costing the whole run.
    const restored = await withRetryWindow(() => store.restore(jobId, dirs.saveDir, names), 60_000).catch(
      async (err: Error): Promise<string[]> => {
        deps.log.warn({ err: { message: err.message } }, "could not restore the checkpoint from the object store");
        rmSync(dirs.saveDir, { recursive: true, force: true });
        await deps.note(
          "checkpoint-unavailable",
          `Could not restore the checkpoint from the object store (${err.message.slice(0, 200)}); training starts over`,
        );
        return [];
      },
    );
    if (restored.includes("weights/last.pt"))
      await deps.note("checkpoint-restored", `No local checkpoint on ${env.WORKER_NAME}: resuming from the last one in the object store`);
  }
  rmSync(dirs.stopFile, { force: true });
  return dirs;
}
