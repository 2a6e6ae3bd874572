// `npx tsx bench/compare.ts`: the compare API for 10 jobs × 300 epochs × 20 metrics (the goal:
// p99 <= 200 ms), through the built web app over HTTP, with the raw query time measured in the same
// run: the API's two statements (apps/web/src/server/compare/sql.ts) through a bare pg client, so the
// figure says how much of the time is Postgres and how much the app (parse, pivot, JSON, HTTP).
// Prints one JSON line. BENCH_COMPARE_REQUESTS (200) sequential requests after 20 to warm up.
import { pathToFileURL } from "node:url";
import pg from "pg";
import { compareEpochsSql, compareJobsSql } from "../apps/web/src/server/compare/sql.ts";
import { percentile } from "../test/integration/process-table.ts";
import { benchDbUrl, ensureWebBuild, prepareBenchDatabase, Processes, REDIS_URL, seedBenchTeam } from "./stack.ts";

const PORT = Number(process.env.BENCH_COMPARE_PORT ?? 3291);
const BASE = `http://127.0.0.1:${PORT}`;
const DB_URL = benchDbUrl("wyolo_bench_compare");
const JOBS = 10;
const EPOCHS = 300;
const REQUESTS = Number(process.env.BENCH_COMPARE_REQUESTS ?? 200);
const GOAL_P99_MS = 200;
const info = (msg: string) => console.error(`bench: ${msg}`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// 20 recorded values per epoch, as a detection run records them: 3 train losses; precision, recall,
// mAP50, mAP50-95, 3 val losses and fitness; 3 lr groups; 6 more metrics (a segmentation run's mask scores…).
const EXTRA = ["precision(M)", "recall(M)", "mAP50(M)", "mAP50-95(M)", "accuracy_a", "accuracy_b"];
function epochRow(job: number, epoch: number) {
  const t = epoch / EPOCHS;
  const map = (0.2 + 0.6 * t) * (1 - job / 50);
  return {
    losses: { "train/box_loss": 2 - t, "train/cls_loss": 1.5 - t, "train/dfl_loss": 1.2 - t / 2 },
    metrics: {
      "metrics/precision(B)": map + 0.1,
      "metrics/recall(B)": map,
      "metrics/mAP50(B)": map * 1.2,
      "metrics/mAP50-95(B)": map,
      "val/box_loss": 2.1 - t,
      "val/cls_loss": 1.6 - t,
      "val/dfl_loss": 1.3 - t / 2,
      fitness: map,
      ...Object.fromEntries(EXTRA.map((k, i) => [`metrics/${k}`, map * (1 - i / 20)])),
    },
    lr: { "lr/pg0": 0.01 * (1 - t), "lr/pg1": 0.01 * (1 - t), "lr/pg2": 0.01 * (1 - t) },
  };
}

export async function compareBench(report: (fig: Record<string, unknown>) => void = (f) => console.log(JSON.stringify(f))) {
  const processes = new Processes();
  const db = new pg.Client({ connectionString: DB_URL });
  try {
    info("preparing database, build and server");
    await prepareBenchDatabase(DB_URL);
    await ensureWebBuild();
    await db.connect();

    // A team, project and read token of the admin; the jobs and their epochs.
    const { adminId, token } = await seedBenchTeam(db, { name: "Compare", slug: "compare" }, ["read"]);
    const classes = Array.from({ length: 20 }, (_, id) => ({
      id,
      name: `class${id}`,
      images: 10,
      instances: 20,
      box: { p: 0.5, r: 0.5, map50: 0.5, map50_95: 0.4 },
    }));
    const ids: string[] = [];
    for (let j = 0; j < JOBS; j++) {
      const id = `benchjob${j}`;
      ids.push(id);
      await db.query(
        `INSERT INTO "TrainingJob" (id, "projectId", "createdById", name, config, status, model, "totalEpochs", "bestEpoch", "bestMetric", "bestMetricName", "classMetrics", "startedAt", "finishedAt", "updatedAt")
         VALUES ($1, 'benchproject', $2, $3, $4, 'SUCCEEDED', 'yolo11n.pt', $5, $5, $6, 'metrics/mAP50-95(B)', $7, now() - interval '2 hours', now(), now())`,
        [
          id,
          adminId,
          `run ${j}`,
          JSON.stringify({
            model: "yolo11n.pt",
            task: "detect",
            train: { data: "shapes/data.yaml", epochs: EPOCHS, lr0: 0.01 * (j + 1), imgsz: 640 },
          }),
          EPOCHS,
          epochRow(j, EPOCHS).metrics["metrics/mAP50-95(B)"],
          JSON.stringify(classes),
        ],
      );
      const rows = Array.from({ length: EPOCHS }, (_, i) => ({ epoch: i + 1, ...epochRow(j, i + 1) }));
      await db.query(
        `INSERT INTO "JobEpoch" ("jobId", epoch, losses, metrics, lr)
         SELECT $1, (r->>'epoch')::int, r->'losses', r->'metrics', r->'lr' FROM jsonb_array_elements($2::jsonb) r`,
        [id, JSON.stringify(rows)],
      );
    }
    await db.query(`ANALYZE`);

    await processes.startWeb(PORT, { DATABASE_URL: DB_URL, REDIS_URL, WEB_CONCURRENCY: "1" });
    const url = `${BASE}/api/v1/teams/benchteam/compare?jobs=${ids.join(",")}`;
    const headers = { authorization: `Bearer ${token}` };
    let bytes = 0;
    const once = async () => {
      const started = performance.now();
      const res = await fetch(url, { headers });
      const body = await res.arrayBuffer();
      if (!res.ok) throw new Error(`compare → ${res.status} ${Buffer.from(body).toString()}`);
      bytes = body.byteLength;
      return performance.now() - started;
    };
    const jobsSql = compareJobsSql("benchteam", ids);
    const epochsSql = compareEpochsSql("benchteam", ids);
    // The API runs its two statements side by side; so does the raw measure (two connections).
    const db2 = new pg.Client({ connectionString: DB_URL });
    await db2.connect();
    const raw = async () => {
      const started = performance.now();
      const [jobs, epochs] = await Promise.all([db.query(jobsSql.text, jobsSql.values), db2.query(epochsSql.text, epochsSql.values)]);
      if (jobs.rowCount !== JOBS || epochs.rowCount !== JOBS) throw new Error("the raw statements did not find the bench jobs");
      return performance.now() - started;
    };

    info(`warming up, then ${REQUESTS} requests and ${REQUESTS} raw query pairs, interleaved`);
    for (let i = 0; i < 20; i++) {
      await once();
      await raw();
    }
    const api: number[] = [];
    const sql: number[] = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < REQUESTS; i++) {
      api.push(await once());
      sql.push(await raw());
    }
    await db2.end();
    const p99 = percentile(api, 99);
    report({
      name: "compare_api",
      jobs: JOBS,
      epochs: EPOCHS,
      metricsPerEpoch: Object.values(epochRow(0, 1)).reduce((n, m) => n + Object.keys(m).length, 0),
      requests: REQUESTS,
      answerBytes: bytes,
      apiP50Ms: round(percentile(api, 50)),
      apiP99Ms: round(p99),
      rawQueryP50Ms: round(percentile(sql, 50)),
      rawQueryP99Ms: round(percentile(sql, 99)),
      goalP99Ms: GOAL_P99_MS,
      meetsGoal: p99 <= GOAL_P99_MS,
    });
  } finally {
    await db.end().catch(() => {});
    await processes.stopAll();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await compareBench();
  process.exit(0);
}
