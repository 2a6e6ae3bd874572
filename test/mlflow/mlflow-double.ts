// Test double of an MLflow 2.22 tracking server, built from the recorded request/response pairs
// in ../shared/mlflow/mlflow-2.22-rest.jsonl (replayed against it in double.test.ts). Only the
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
  down = false;
  private server: Server | null = null;
  private nextExperiment = 1;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
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
          tags: new Map(((body.tags as Tag[]) ?? []).map((t) => [t.key, t.value])),
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
        const m = /tags\.`([^`]+)` = '([^']*)'/.exec(String(body.filter ?? ""));
        const ids = (body.experiment_ids as string[]) ?? [];
        const runs = [...this.runs.values()].filter((r) => ids.includes(r.info.experiment_id) && (!m || r.tags.get(m[1]!) === m[2]));
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
