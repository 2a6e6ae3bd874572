import { Readable } from "node:stream";
import { isRetryableStatus } from "../retryable.ts";

/** A small MLflow REST client (the calls a training job needs), typed after MLflow 2.22's answers. */
export class MlflowError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "MlflowError";
  }
  /** 4xx answers other than "not found"/"already exists" will not change by retrying. */
  get permanent(): boolean {
    return !isRetryableStatus(this.status);
  }
}

export type RunInfo = { run_id?: string; run_uuid: string; experiment_id: string; status: string; artifact_uri: string };
type Tag = { key: string; value: string };

/** MLflow's basic auth (MLFLOW_TRACKING_USERNAME/PASSWORD), for the REST API and the artifact proxy alike. */
const basicAuth = ({ username, password }: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

export class MlflowClient {
  constructor(
    private readonly baseUrl: string,
    private readonly auth?: { username: string; password: string },
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.auth) headers.authorization = basicAuth(this.auth);
    const res = await fetch(`${this.baseUrl.replace(/\/$/, "")}/api/2.0/mlflow/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let data: Record<string, unknown> = {};
    try {
      data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // MLflow answers JSON; anything else (a proxy's HTML page) is reported by status below.
    }
    if (!res.ok)
      throw new MlflowError(
        res.status,
        String(data.error_code ?? "HTTP_ERROR"),
        String(data.message ?? `MLflow answered ${res.status}`).slice(0, 500),
      );
    return data as T;
  }

  async getExperimentIdByName(name: string): Promise<string | null> {
    try {
      const r = await this.call<{ experiment: { experiment_id: string } }>(
        "GET",
        `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
      );
      return r.experiment.experiment_id;
    } catch (err) {
      if (err instanceof MlflowError && err.code === "RESOURCE_DOES_NOT_EXIST") return null;
      throw err;
    }
  }

  /** get-by-name, else create; RESOURCE_ALREADY_EXISTS means another worker won the race: read it again. */
  async ensureExperiment(name: string, tags: Tag[]): Promise<string> {
    const existing = await this.getExperimentIdByName(name);
    if (existing) return existing;
    try {
      return (await this.call<{ experiment_id: string }>("POST", "experiments/create", { name, tags })).experiment_id;
    } catch (err) {
      if (err instanceof MlflowError && err.code === "RESOURCE_ALREADY_EXISTS") {
        const id = await this.getExperimentIdByName(name);
        if (id) return id;
      }
      throw err;
    }
  }

  async findRunByTag(experimentId: string, key: string, value: string): Promise<RunInfo | null> {
    const r = await this.call<{ runs?: { info: RunInfo }[] }>("POST", "runs/search", {
      experiment_ids: [experimentId],
      filter: `tags.\`${key}\` = '${value.replace(/'/g, "")}'`,
      max_results: 1,
    });
    return r.runs?.[0]?.info ?? null;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: Tag[]): Promise<RunInfo> {
    return (
      await this.call<{ run: { info: RunInfo } }>("POST", "runs/create", {
        experiment_id: experimentId,
        run_name: runName,
        start_time: startTime,
        tags,
      })
    ).run.info;
  }

  logBatch(
    runId: string,
    batch: { params?: Tag[]; metrics?: { key: string; value: number; timestamp: number; step: number }[]; tags?: Tag[] },
  ) {
    return this.call<Record<string, never>>("POST", "runs/log-batch", { run_id: runId, params: [], metrics: [], tags: [], ...batch });
  }

  async getRun(runId: string): Promise<RunInfo> {
    return (await this.call<{ run: { info: RunInfo } }>("GET", `runs/get?run_id=${encodeURIComponent(runId)}`)).run.info;
  }

  /**
   * Uploads a file into a run's `mlflow-artifacts:/…` root through MLflow's artifact proxy
   * (a server started with --serve-artifacts): PUT /api/2.0/mlflow-artifacts/artifacts/<path>.
   */
  async uploadArtifact(artifactRoot: string, name: string, body: Readable, length: number): Promise<void> {
    const rootPath = artifactRoot.replace(/^mlflow-artifacts:(\/\/[^/]*)?/, "").replace(/^\/+|\/+$/g, "");
    const target = [...rootPath.split("/"), ...name.split("/")].filter(Boolean).map(encodeURIComponent).join("/");
    const headers: Record<string, string> = { "content-type": "application/octet-stream", "content-length": String(length) };
    if (this.auth) headers.authorization = basicAuth(this.auth);
    const res = await fetch(`${this.baseUrl.replace(/\/$/, "")}/api/2.0/mlflow-artifacts/artifacts/${target}`, {
      method: "PUT",
      headers,
      body: Readable.toWeb(body) as ReadableStream,
      duplex: "half",
      // A minute, plus a minute per 100 MB.
      signal: AbortSignal.timeout(60_000 + Math.ceil(length / 100e6) * 60_000),
    } as RequestInit);
    const text = await res.text();
    if (!res.ok) {
      let data: Record<string, unknown> = {};
      try {
        data = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON: reported by status
      }
      throw new MlflowError(
        res.status,
        String(data.error_code ?? "HTTP_ERROR"),
        String(data.message ?? `MLflow's artifact proxy answered ${res.status}`).slice(0, 500),
      );
    }
  }

  updateRun(runId: string, status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED", endTime?: number) {
    return this.call("POST", "runs/update", { run_id: runId, status, ...(endTime ? { end_time: endTime } : {}) });
  }

  // --- Model registry (answers as recorded from MLflow 2.22)

  /** Creates a registered model; RESOURCE_ALREADY_EXISTS (another worker, an earlier attempt) counts as done. */
  async createRegisteredModel(name: string, description: string, tags: Tag[]): Promise<void> {
    try {
      await this.call("POST", "registered-models/create", { name, description, tags });
    } catch (err) {
      if (!(err instanceof MlflowError && err.code === "RESOURCE_ALREADY_EXISTS")) throw err;
    }
  }

  renameRegisteredModel(name: string, newName: string) {
    return this.call("POST", "registered-models/rename", { name, new_name: newName });
  }

  async createModelVersion(v: {
    name: string;
    source: string;
    runId?: string;
    tags: Tag[];
    description: string;
  }): Promise<ModelVersionInfo> {
    return (
      await this.call<{ model_version: ModelVersionInfo }>("POST", "model-versions/create", {
        name: v.name,
        source: v.source,
        ...(v.runId ? { run_id: v.runId } : {}),
        tags: v.tags,
        description: v.description,
      })
    ).model_version;
  }

  /** The versions of one model (MLflow answers newest first). */
  async searchModelVersions(name: string): Promise<ModelVersionInfo[]> {
    const filter = encodeURIComponent(`name='${name.replace(/'/g, "")}'`);
    return (
      (await this.call<{ model_versions?: ModelVersionInfo[] }>("GET", `model-versions/search?filter=${filter}&max_results=10000`))
        .model_versions ?? []
    );
  }

  setAlias(name: string, alias: string, version: string) {
    return this.call("POST", "registered-models/alias", { name, alias, version });
  }

  deleteAlias(name: string, alias: string) {
    return this.call("DELETE", "registered-models/alias", { name, alias });
  }
}

export type ModelVersionInfo = { name: string; version: string; source: string; run_id?: string; status: string; tags?: Tag[] };

/** MLflow accepts alphanumerics, _ - . space : and / in names: `metrics/mAP50(B)` becomes `metrics/mAP50B`. */
export function mlflowKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_\-. :/]/g, "").slice(0, 250) || "_";
}

const MAX_PARAM_VALUE = 6000;

/** The resolved config as MLflow params: flat keys, string values within MLflow's length limit. */
export function configParams(config: {
  model: string;
  type: string;
  task: string;
  gpus?: number;
  train: Record<string, unknown>;
}): { key: string; value: string }[] {
  const params = [
    { key: "model", value: config.model },
    { key: "type", value: config.type },
    { key: "task", value: config.task },
    ...(config.gpus !== undefined ? [{ key: "gpus", value: String(config.gpus) }] : []),
    ...Object.entries(config.train).map(([key, value]) => ({ key, value: typeof value === "string" ? value : JSON.stringify(value) })),
  ];
  return params.map((p) => ({
    key: mlflowKey(p.key),
    value: p.value.length > MAX_PARAM_VALUE ? `${p.value.slice(0, MAX_PARAM_VALUE - 1)}…` : p.value,
  }));
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
