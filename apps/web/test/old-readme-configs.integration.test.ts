import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { createTeamWith, createUser, DASHBOARD_ORIGIN, sessionCookie } from "../../../test/integration/helpers";

// The YAML examples of the old service's README (wyoloservice2_worker), verbatim. Its tuning and
// logging examples are blocks it tells users to put in config.yaml, so they go in CONFIG_YAML there
// (test/fixtures/old-readme-config.yaml, which the CLI e2e spec submits too).
const CONFIG_YAML = readFileSync(path.join(import.meta.dirname, "../../../test/fixtures/old-readme-config.yaml"), "utf8");

const TUNING_YAML = `# Enable hyperparameter tuning in config.yaml
sweeper:
  study_name: "yolo_hyperopt"
  n_trials: 50
  tune: true
  grace_period: 10
  algorithm: "optuna"
  direction: "maximize"
  sampler: "TPESampler"
`;

const LOGGING_YAML = `# Configure logging in config.yaml
logging:
  level: "INFO"  # DEBUG, INFO, WARNING, ERROR
  format: "detailed"  # simple, detailed, json
`;

/** config.yaml with its `sweeper:` block (the last one) replaced, as a user following the README would. */
const withSweeper = (block: string) => CONFIG_YAML.slice(0, CONFIG_YAML.indexOf("# Hyperparameter optimization")) + block;

const INFRA_WARNINGS = [
  "`mlflow` was ignored: the platform's own MLflow settings apply (MLFLOW_TRACKING_URI in the deployment's environment)",
  "`minio` was ignored: the platform's own object store settings apply (S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY in the deployment's environment)",
  expect.stringMatching(/^`redis` was ignored: the platform's own Redis settings apply \(REDIS_URL\)/),
  "`train.data` is an absolute path: Wyolo reads datasets from its datasets directory (DATASETS_DIR) only, so `/path/to/dataset.yaml` is read as `path/to/dataset.yaml` there",
];
const SWEEPER_OFF = "`sweeper` was ignored: `tune` is false, so this is one training job (set `sweeper.tune: true` for a sweep)";

let cookie: string;
let projectId: string;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Old service", slug: "old-service" } })).id;
  cookie = await sessionCookie(member);
});

afterAll(async () => {
  await trainingQueue.obliterate({ force: true });
});

/** POSTs a raw config.yaml, as `curl --data-binary @config.yaml -H 'Content-Type: application/yaml'` would. */
async function submitYaml(yaml: string) {
  const req = new Request(`${DASHBOARD_ORIGIN}/api/v1/projects/${projectId}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/yaml", cookie, origin: DASHBOARD_ORIGIN },
    body: yaml,
  });
  const res = await jobsRoute.POST(req, { params: Promise.resolve({ projectId }) });
  return { status: res.status, body: await res.json() };
}

describe("the old service's README examples through POST /api/v1/projects/{id}/jobs (raw YAML)", () => {
  it("config.yaml: 201, one job, each dropped block and the absolute dataset path explained, no secret stored", async () => {
    const res = await submitYaml(CONFIG_YAML);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.warnings).toEqual([...INFRA_WARNINGS, SWEEPER_OFF]);
    expect(res.body.job).toMatchObject({ name: "training_session_001", model: "yolov8n.pt", task: "detect", status: "QUEUED" });
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect(row.config).toMatchObject({
      model: "yolov8n.pt",
      type: "yolo",
      task_id: "training_session_001",
      train: { data: "path/to/dataset.yaml", epochs: 100, imgsz: 640, batch: -1, verbose: true, plots: true },
    });
    expect(JSON.stringify(row.config)).not.toMatch(/password|MINIO|REDIS|training_queue/);
    expect(await trainingQueue.getJob(row.id)).toBeDefined();
  });

  it("config.yaml with the tuning example (tune: true): 201, a sweep named by its study, with its settings", async () => {
    const res = await submitYaml(withSweeper(TUNING_YAML));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.kind).toBe("sweep");
    expect(res.body.warnings).toEqual(INFRA_WARNINGS);
    const sweep = await db.sweep.findUniqueOrThrow({ where: { id: res.body.sweep.id } });
    expect(sweep).toMatchObject({ name: "yolo_hyperopt", nTrials: 50 });
    expect(sweep.settings).toMatchObject({ algorithm: "optuna", direction: "maximize", sampler: "TPESampler", grace_period: 10 });
    expect((sweep.config as { train: { data: string } }).train.data).toBe("path/to/dataset.yaml");
  });

  it("config.yaml with the logging example: 201, the block kept in the job's config without a warning of its own", async () => {
    const res = await submitYaml(`${CONFIG_YAML}\n${LOGGING_YAML}`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.warnings).toEqual([...INFRA_WARNINGS, SWEEPER_OFF]);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect(row.config).toMatchObject({ logging: { level: "INFO", format: "detailed" } });
  });
});
