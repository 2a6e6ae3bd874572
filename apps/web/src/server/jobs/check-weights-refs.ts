import "server-only";
import { jobWeightsArtifactName, parseJobWeightsRef, type Task, type TrainingConfig } from "@wyolo/contracts";
import { db } from "../db";
import { AppError, notFound } from "../errors";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";

/**
 * Checks the `job:<id>/best.pt` references of a config (`model`, `train.pretrained`) with the
 * submitter's permissions: the job must be readable by them and in the target project's team
 * (else 404, as for any object of another team), and its weights must be stored (else 422 on the
 * field). Returns the job `model` names, whose task a fine-tune inherits by default.
 */
export async function checkWeightsRefs(
  user: SessionUser,
  teamId: string,
  config: TrainingConfig,
): Promise<{ modelJob?: { name: string; task: Task } }> {
  const named: [field: string, value: unknown][] = [
    ["model", config.model],
    ["train.pretrained", config.train.pretrained],
  ];
  let modelJob: { name: string; task: Task } | undefined;
  for (const [field, value] of named) {
    const ref = typeof value === "string" ? parseJobWeightsRef(value) : null;
    if (!ref) continue;
    const missing = notFound(`The job named in \`${field}\` (${value as string}) was not found`);
    const access = await jobAccess(user, ref.jobId, "job.read").catch((err: unknown) => {
      throw err instanceof AppError && err.code === "NOT_FOUND" ? missing : err;
    });
    if (access.team.id !== teamId) throw missing;
    const stored = await db.jobArtifact.findUnique({
      where: { jobId_name: { jobId: ref.jobId, name: jobWeightsArtifactName(ref) } },
      select: { id: true },
    });
    if (!stored) {
      throw new AppError("VALIDATION_FAILED", "The training config is invalid", {
        [`config.${field}`]: [
          `Job ${ref.jobId} has no stored ${ref.file} yet (its weights are stored while it trains and when it ends); pick a job that has, or use job:${ref.jobId}/${ref.file === "best.pt" ? "last.pt" : "best.pt"}`,
        ],
      });
    }
    if (field === "model") modelJob = { name: access.job.name, task: access.job.task as Task };
  }
  return { modelJob };
}
