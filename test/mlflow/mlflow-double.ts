// Test double of an MLflow 2.22 tracking server, built from the recorded request/response pairs
// in ../shared/mlflow/mlflow-2.22-rest.jsonl and mlflow-2.22-registry.jsonl (the model registry;
// both replayed against it in double.test.ts). Only the
// calls Wyolo makes; lives under test/, never wired as a default. `down = true` makes it drop
// every connection, as an MLflow that is away does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Tag = { key: string; value: string };
type Metric = { key: string; value: number; timestamp: number; step: number };
type Run = {
  info: {
    run_uuid: string;
    run_id: string;
    experiment_id: string;
    run_name: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
  };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Metric[];
};

const NAME = /^[A-Za-z0-9_\-. :/]+$/;
const ALIAS = /^[A-Za-z0-9_-]+$/;
type ModelVersion = {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: string;
  tags: Tag[];
  run_link: string;
};
type RegisteredModel = {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  tags: Tag[];
  versions: ModelVersion[];
  aliases: Map<string, string>;
};

export class MlflowDouble {
  experiments = new Map<
    string,
    {
      experiment_id: string;
      name: string;
      artifact_location: string;
      lifecycle_stage: string;
      tags: Tag[];
      creation_time: number;
      last_update_time: number;
    }
  >();
  runs = new Map<string, Run>();
  requests: { method: string; path: string; body: unknown }[] = [];
  /** Files put through the artifact proxy, by path under the proxy's root (e.g. "1/<run>/artifacts/weights/best.pt"). */
  artifacts = new Map<string, Buffer>();
  /**
   * Where new experiments put their artifacts: `mlflow-artifacts:` for a server started with
   * --serve-artifacts (the recording), or e.g. `s3://bucket/prefix` for --default-artifact-root.
   */
  artifactRoot = "mlflow-artifacts:";
  /** The model registry, by registered model name. */
  models = new Map<string, RegisteredModel>();
  down = false;
  private server: Server | null = null;
  private nextExperiment = 1;

  /** Listens on `port` (0: any free one); a stopped double started again on its old port keeps its state, as a restarted MLflow keeps its store. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(port, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  experimentByName(name: string) {
    return [...this.experiments.values()].find((e) => e.name === name);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (this.down) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    const PROXY = "/api/2.0/mlflow-artifacts/artifacts/";
    if (url.pathname.startsWith(PROXY) && req.method === "PUT") {
      const key = decodeURIComponent(url.pathname.slice(PROXY.length));
      this.requests.push({ method: "PUT", path: url.pathname, body: `<${Buffer.concat(chunks).length} raw bytes>` });
      this.artifacts.set(key, Buffer.concat(chunks));
      return this.send(res, 200, {});
    }
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown>;
    try {
      body = raw ? JSON.parse(raw.replace(/:\s*NaN\b/g, ": null")) : {};
    } catch {
      return this.send(res, 400, { error_code: "MALFORMED_REQUEST", message: "bad json" });
    }
    this.requests.push({ method: req.method ?? "", path: url.pathname + url.search, body });
    const route = `${req.method} ${url.pathname.replace("/api/2.0/mlflow/", "")}`;
    const error = (status: number, code: string, message: string) => this.send(res, status, { error_code: code, message });
    switch (route) {
      case "GET experiments/get-by-name": {
        const name = url.searchParams.get("experiment_name") ?? "";
        const e = this.experimentByName(name);
        return e
          ? this.send(res, 200, { experiment: e })
          : error(404, "RESOURCE_DOES_NOT_EXIST", `Could not find experiment with name '${name}'`);
      }
      case "POST experiments/create": {
        const name = String(body.name);
        if (this.experimentByName(name)) return error(400, "RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
        const id = String(this.nextExperiment++);
        this.experiments.set(id, {
          experiment_id: id,
          name,
          artifact_location: `${this.artifactRoot}/${id}`,
          lifecycle_stage: "active",
          tags: (body.tags as Tag[]) ?? [],
          creation_time: Date.now(),
          last_update_time: Date.now(),
        });
        return this.send(res, 200, { experiment_id: id });
      }
      case "POST runs/create": {
        const exp = this.experiments.get(String(body.experiment_id));
        if (!exp) return error(404, "RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${body.experiment_id} exists`);
        const id = crypto.randomUUID().replaceAll("-", "");
        const run: Run = {
          info: {
            run_uuid: id,
            run_id: id,
            experiment_id: exp.experiment_id,
            run_name: String(body.run_name ?? ""),
            user_id: "",
            status: "RUNNING",
            start_time: Number(body.start_time ?? Date.now()),
            artifact_uri: `${exp.artifact_location}/${id}/artifacts`,
            lifecycle_stage: "active",
          },
          params: new Map(),
          // MLflow adds the run name as a tag.
          tags: new Map([
            ...((body.tags as Tag[]) ?? []).map((t) => [t.key, t.value] as [string, string]),
            ...(body.run_name ? [["mlflow.runName", String(body.run_name)] as [string, string]] : []),
          ]),
          metrics: [],
        };
        this.runs.set(id, run);
        return this.send(res, 200, { run: this.view(run) });
      }
      case "GET runs/get": {
        const run = this.runs.get(url.searchParams.get("run_id") ?? "");
        return run
          ? this.send(res, 200, { run: this.view(run) })
          : error(404, "RESOURCE_DOES_NOT_EXIST", `Run with id=${url.searchParams.get("run_id")} not found`);
      }
      case "POST runs/search": {
        // `tags.\`wyolo.job_id\` = 'x'` (the tracker) or `tags.mlflow.parentRunId = 'x'` (a sweep's children).
        const m = /tags\.(?:`([^`]+)`|([\w.]+))\s*=\s*'([^']*)'/.exec(String(body.filter ?? ""));
        const ids = (body.experiment_ids as string[]) ?? [];
        const runs = [...this.runs.values()].filter(
          (r) => ids.includes(r.info.experiment_id) && (!m || r.tags.get((m[1] ?? m[2])!) === m[3]),
        );
        return this.send(res, 200, runs.length ? { runs: runs.map((r) => this.view(r)) } : {});
      }
      case "POST runs/update": {
        const run = this.runs.get(String(body.run_id));
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", `Run with id=${body.run_id} not found`);
        run.info.status = String(body.status);
        if (body.end_time) run.info.end_time = Number(body.end_time);
        return this.send(res, 200, { run_info: run.info });
      }
      case "POST runs/log-batch": {
        const run = this.runs.get(String(body.run_id));
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", `Run with id=${body.run_id} not found`);
        const params = (body.params as Tag[]) ?? [];
        const metrics = (body.metrics as Metric[]) ?? [];
        if (params.length > 100)
          return error(
            400,
            "INVALID_PARAMETER_VALUE",
            `A batch logging request can contain at most 100 params. Got ${params.length} params. Please split up params across multiple requests and try again.`,
          );
        for (const [i, m] of metrics.entries()) {
          if (!NAME.test(m.key))
            return error(
              400,
              "INVALID_PARAMETER_VALUE",
              `Invalid value "${m.key}" for parameter 'metrics[${i}].name' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
            );
        }
        const changed = params.filter((p) => run.params.has(p.key) && run.params.get(p.key) !== p.value);
        if (changed.length)
          return error(
            400,
            "INVALID_PARAMETER_VALUE",
            `Changing param values is not allowed. Params were already logged='${JSON.stringify(changed.map((p) => ({ key: p.key, old_value: run.params.get(p.key), new_value: p.value })))}' for run ID='${run.info.run_uuid}'.`,
          );
        for (const p of params) run.params.set(p.key, p.value);
        for (const t of (body.tags as Tag[]) ?? []) run.tags.set(t.key, t.value);
        run.metrics.push(...metrics);
        return this.send(res, 200, {});
      }
      case "GET artifacts/list": {
        const run = this.runs.get(url.searchParams.get("run_id") ?? "");
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
        const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
        const dir = (url.searchParams.get("path") ?? "").replace(/\/+$/, "");
        const prefix = `${root}/${dir ? `${dir}/` : ""}`;
        const seen = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
        for (const [key, bytes] of this.artifacts) {
          if (!key.startsWith(prefix)) continue;
          const [head, ...rest] = key.slice(prefix.length).split("/");
          const rel = `${dir ? `${dir}/` : ""}${head}`;
          seen.set(rel, rest.length ? { path: rel, is_dir: true } : { path: rel, is_dir: false, file_size: bytes.length });
        }
        return this.send(res, 200, { root_uri: run.info.artifact_uri, ...(seen.size ? { files: [...seen.values()] } : {}) });
      }
      case "GET metrics/get-history": {
        const run = this.runs.get(url.searchParams.get("run_id") ?? "");
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");
        return this.send(res, 200, { metrics: run.metrics.filter((m) => m.key === url.searchParams.get("metric_key")) });
      }
      default:
        return this.registry(route, url, body, res, error);
    }
  }

  /** The model registry's endpoints, answered as MLflow 2.22 did in the recording. */
  private registry(
    route: string,
    url: URL,
    body: Record<string, unknown>,
    res: ServerResponse,
    error: (status: number, code: string, message: string) => void,
  ) {
    const q = (k: string) => url.searchParams.get(k) ?? String(body[k] ?? "");
    const noModel = (name: string) => error(404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
    const noVersion = (name: string, version: string) =>
      error(404, "RESOURCE_DOES_NOT_EXIST", `Model Version (name=${name}, version=${version}) not found`);
    const now = Date.now();
    const versionView = (m: RegisteredModel, v: ModelVersion, withAliases = false) => {
      const aliases = [...m.aliases].filter(([, ver]) => ver === v.version).map(([a]) => a);
      const { tags, ...rest } = v;
      return { ...rest, ...(tags.length ? { tags } : {}), ...(withAliases && aliases.length ? { aliases } : {}) };
    };
    switch (route) {
      case "POST registered-models/create": {
        const name = String(body.name ?? "");
        if (this.models.has(name)) return error(400, "RESOURCE_ALREADY_EXISTS", `Registered Model (name=${name}) already exists.`);
        const m: RegisteredModel = {
          name,
          creation_timestamp: now,
          last_updated_timestamp: now,
          description: String(body.description ?? ""),
          tags: (body.tags as Tag[]) ?? [],
          versions: [],
          aliases: new Map(),
        };
        this.models.set(name, m);
        const { versions: _v, aliases: _a, ...view } = m;
        return this.send(res, 200, { registered_model: view });
      }
      case "GET registered-models/get": {
        const m = this.models.get(q("name"));
        if (!m) return noModel(q("name"));
        const latest = m.versions.at(-1);
        const { versions: _v, aliases, ...view } = m;
        return this.send(res, 200, {
          registered_model: {
            ...view,
            ...(latest ? { latest_versions: [versionView(m, latest)] } : {}),
            ...(aliases.size ? { aliases: [...aliases].map(([alias, version]) => ({ alias, version })) } : {}),
          },
        });
      }
      // Not in the recording: MLflow's documented rename (POST registered-models/rename {name, new_name}).
      case "POST registered-models/rename": {
        const m = this.models.get(String(body.name ?? ""));
        if (!m) return noModel(String(body.name));
        const to = String(body.new_name ?? "");
        if (this.models.has(to)) return error(400, "RESOURCE_ALREADY_EXISTS", `Registered Model (name=${to}) already exists.`);
        this.models.delete(m.name);
        m.name = to;
        for (const v of m.versions) v.name = to;
        this.models.set(to, m);
        const { versions: _v, aliases: _a, ...view } = m;
        return this.send(res, 200, { registered_model: view });
      }
      case "POST model-versions/create": {
        const m = this.models.get(String(body.name ?? ""));
        if (!m) return noModel(String(body.name));
        const v: ModelVersion = {
          name: m.name,
          version: String(m.versions.length + 1),
          creation_timestamp: now,
          last_updated_timestamp: now,
          current_stage: "None",
          description: String(body.description ?? ""),
          source: String(body.source ?? ""),
          run_id: String(body.run_id ?? ""),
          status: "READY",
          tags: (body.tags as Tag[]) ?? [],
          run_link: "",
        };
        m.versions.push(v);
        m.last_updated_timestamp = now;
        return this.send(res, 200, { model_version: versionView(m, v) });
      }
      case "GET model-versions/get": {
        const m = this.models.get(q("name"));
        const v = m?.versions.find((x) => x.version === q("version"));
        return m && v ? this.send(res, 200, { model_version: versionView(m, v) }) : noVersion(q("name"), q("version"));
      }
      case "GET model-versions/search": {
        const name = /name\s*=\s*'([^']*)'/.exec(q("filter"))?.[1];
        const all = [...this.models.values()].filter((m) => name === undefined || m.name === name);
        const found = all.flatMap((m) => [...m.versions].reverse().map((v) => versionView(m, v)));
        return this.send(res, 200, found.length ? { model_versions: found } : {});
      }
      case "POST model-versions/set-tag": {
        const m = this.models.get(String(body.name ?? ""));
        const v = m?.versions.find((x) => x.version === String(body.version));
        if (!m || !v) return noVersion(String(body.name), String(body.version));
        v.tags = [...v.tags.filter((t) => t.key !== body.key), { key: String(body.key), value: String(body.value) }];
        return this.send(res, 200, {});
      }
      case "POST registered-models/alias": {
        const alias = String(body.alias ?? "");
        if (!ALIAS.test(alias))
          return error(
            400,
            "INVALID_PARAMETER_VALUE",
            `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
          );
        const m = this.models.get(String(body.name ?? ""));
        if (!m) return noModel(String(body.name));
        if (!m.versions.some((v) => v.version === String(body.version))) return noVersion(m.name, String(body.version));
        m.aliases.set(alias, String(body.version));
        return this.send(res, 200, {});
      }
      case "GET registered-models/alias": {
        const m = this.models.get(q("name"));
        const version = m?.aliases.get(q("alias"));
        const v = m?.versions.find((x) => x.version === version);
        if (!m || !v) return error(404, "RESOURCE_DOES_NOT_EXIST", `Registered model alias ${q("alias")} not found.`);
        return this.send(res, 200, { model_version: versionView(m, v, true) });
      }
      case "DELETE registered-models/alias": {
        const m = this.models.get(q("name"));
        if (!m) return noModel(q("name"));
        m.aliases.delete(q("alias"));
        return this.send(res, 200, {});
      }
      default:
        return error(404, "ENDPOINT_NOT_FOUND", `No such endpoint in the double: ${route}`);
    }
  }

  private view(run: Run) {
    return {
      info: run.info,
      data: {
        params: [...run.params].map(([key, value]) => ({ key, value })),
        tags: [...run.tags].map(([key, value]) => ({ key, value })),
      },
    };
  }

  private send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}
