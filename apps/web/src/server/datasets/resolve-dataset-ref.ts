import "server-only";
import { datasetVersionLabel, isDatasetRef, parseDatasetRef, type TrainingConfig } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";

const FIELD = "config.train.data";
const refused = (message: string) => new AppError("VALIDATION_FAILED", "The training config is invalid", { [FIELD]: [message] });

/** Tasks a dataset of another task can train: polygons give boxes. */
const TRAINS_FROM: Record<string, string[]> = { detect: ["detect", "segment"] };

/**
 * `train.data: dataset:<name>@v<N>` (or `@latest`) → a READY, unarchived version of a dataset of this
 * team, whose task fits the config's. The config then names the exact version (`@latest` resolved),
 * and the job row records its id. Anything else (a path under DATASETS_DIR) is left as it is.
 */
export async function resolveDatasetRef(teamId: string, config: TrainingConfig): Promise<{ datasetVersionId: string | null }> {
  const data = config.train.data;
  if (!isDatasetRef(data)) return { datasetVersionId: null };
  const ref = parseDatasetRef(data);
  if (!ref) throw refused("A dataset version is named dataset:<name>@v<N> or dataset:<name>@latest");
  const dataset = await db.dataset.findUnique({ where: { teamId_name: { teamId, name: ref.name } }, select: { id: true, name: true } });
  if (!dataset) throw refused(`The team has no dataset named ${ref.name}`);
  const version =
    ref.version === "latest"
      ? await db.datasetVersion.findFirst({
          where: { datasetId: dataset.id, status: "READY", archivedAt: null },
          orderBy: { version: "desc" },
          select: { id: true, version: true, status: true, archivedAt: true, task: true },
        })
      : await db.datasetVersion.findUnique({
          where: { datasetId_version: { datasetId: dataset.id, version: ref.version } },
          select: { id: true, version: true, status: true, archivedAt: true, task: true },
        });
  if (!version)
    throw refused(ref.version === "latest" ? `${dataset.name} has no READY version yet` : `${dataset.name} has no version ${ref.version}`);
  const label = datasetVersionLabel(dataset.name, version.version);
  if (version.status !== "READY")
    throw refused(
      version.status === "INVALID"
        ? `${label} failed validation: see its report, fix the dataset and upload a new version`
        : `${label} is ${version.status}: train from it once it is READY`,
    );
  if (version.archivedAt) throw refused(`${label} is archived: unarchive it, or pick another version`);
  if (version.task && !(TRAINS_FROM[config.task] ?? [config.task]).includes(version.task))
    throw refused(
      `${label} is a ${version.task} dataset, and this config trains ${config.task}: set \`task: ${version.task}\` and a matching model`,
    );
  config.train.data = `dataset:${label}`;
  return { datasetVersionId: version.id };
}
