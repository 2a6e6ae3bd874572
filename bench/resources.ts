// A job's resource series in Postgres per training hour: a simulated 1 h and 10 h run sampled every
// RESOURCE_SAMPLE_MS (5 s) on one GPU, fed through the worker's own bounded series and writer
// (apps/worker/src/training/resource-sampler.ts: ResourceSeries, writeSeries, a write every 3 samples)
// into a bench database. Rows and bytes per hour: the rows' own bytes (sum of pg_column_size) and the
// table with its index after VACUUM FULL (the job alone in it), against what 5 s rows without the bound
// would hold. Also the writes' p50/p99 and the cost of one /proc reading (a sample's share of the
// worker's time). Prints one JSON line.
import { performance } from "node:perf_hooks";
import { createDb } from "@wyolo/db";
import { RESOURCE_SAMPLE_MS, type ResourceSample } from "@wyolo/contracts";
import { ResourceSeries, writeSeries } from "../apps/worker/src/training/resource-sampler.ts";
import { processTree, readProcessTable, treeMemory } from "../apps/worker/src/training/memory-watch.ts";
import { percentile } from "../test/integration/process-table.ts";
import { BENCH_ADMIN, benchDbUrl, prepareBenchDatabase } from "./stack.ts";

const MAX_ROWS = Number(process.env.BENCH_RESOURCE_MAX_ROWS ?? 1000);
const HOURS = (process.env.BENCH_RESOURCE_HOURS ?? "1,10").split(",").map(Number);
const info = (msg: string) => console.error(`bench: ${msg}`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A deterministic training-like sample: a busy GPU, two and a half cores, 3 GB. */
function simulated(i: number, start: number): ResourceSample {
  const wave = Math.sin(i / 7) * 0.5 + Math.sin(i / 3.1) * 0.5;
  const util = Math.round(85 + 10 * wave);
  return {
    at: new Date(start + i * RESOURCE_SAMPLE_MS).toISOString(),
    spanSeconds: RESOURCE_SAMPLE_MS / 1000,
    cpuPercent: 250 + 40 * wave,
    rssBytes: 3_000_000_000 + Math.round(50_000_000 * wave),
    hostCpuPercent: 45 + 10 * wave,
    gpuUtil: util,
    gpuMemUsedMb: 6100,
    gpus: [{ index: 0, util, memUsedMb: 6100, memTotalMb: 24576 }],
  };
}

const url = benchDbUrl("wyolo_bench_resources");
info("preparing the bench database…");
await prepareBenchDatabase(url);
const db = createDb(url);
try {
  const admin = await db.user.findUniqueOrThrow({ where: { email: BENCH_ADMIN.email }, select: { id: true } });
  const team = await db.team.create({ data: { name: "Resources", slug: `bench-resources-${Date.now()}` } });
  const project = await db.project.create({ data: { teamId: team.id, name: "Resources", slug: "resources" } });

  // One /proc reading as a sample takes it (the process table, a tree, its PSS), here for the bench's own tree.
  const procMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const table = readProcessTable();
    processTree(table, process.pid);
    treeMemory(table, process.pid);
    procMs.push(performance.now() - t);
  }

  const runs = [];
  for (const hours of HOURS) {
    const job = await db.trainingJob.create({
      data: { projectId: project.id, createdById: admin.id, name: `${hours} h`, config: {}, status: "SUCCEEDED" },
    });
    const series = new ResourceSeries(MAX_ROWS);
    const samples = Math.round((hours * 3_600_000) / RESOURCE_SAMPLE_MS);
    const writes: number[] = [];
    const start = Date.parse("2026-01-01T00:00:00Z");
    info(`${hours} h: ${samples.toLocaleString("en-US")} samples…`);
    for (let i = 0; i < samples; i++) {
      series.add(simulated(i, start));
      if ((i + 1) % 3 === 0 || i === samples - 1) {
        const t = performance.now();
        await writeSeries(db, job.id, series);
        writes.push(performance.now() - t);
      }
    }
    const rows = await db.jobResourceSample.count({ where: { jobId: job.id } });
    const covered = (await db.jobResourceSample.aggregate({ where: { jobId: job.id }, _sum: { spanSeconds: true } }))._sum.spanSeconds ?? 0;
    const [sized] = await db.$queryRaw<{ bytes: bigint }[]>`
      SELECT coalesce(sum(pg_column_size(s.*)), 0)::bigint AS bytes FROM "JobResourceSample" s WHERE s."jobId" = ${job.id}`;
    await db.$executeRawUnsafe(`VACUUM FULL "JobResourceSample"`);
    const [relation] = await db.$queryRaw<{ total: bigint }[]>`SELECT pg_total_relation_size('"JobResourceSample"')::bigint AS total`;
    const rowBytes = Number(sized!.bytes);
    runs.push({
      hours,
      samples,
      rows,
      rowsPerHour: round(rows / hours),
      coveredSeconds: covered,
      rowBytes,
      bytesPerHour: Math.round(rowBytes / hours),
      tableBytesWithIndex: Number(relation!.total),
      spanSecondsMax: Math.max(...series.rows.map((r) => r.spanSeconds)),
      unboundedRows: samples,
      unboundedBytesEstimate: Math.round((rowBytes / rows) * samples),
      writes: writes.length,
      writeP50Ms: round(percentile(writes, 50), 2),
      writeP99Ms: round(percentile(writes, 99), 2),
    });
    await db.trainingJob.delete({ where: { id: job.id } }); // the next run alone in the table
  }
  console.log(
    JSON.stringify({
      name: "resource_series",
      sampleSeconds: RESOURCE_SAMPLE_MS / 1000,
      maxRows: MAX_ROWS,
      bound: `at most ${MAX_ROWS} rows per job, whatever its length (older adjacent samples merged)`,
      procReadP50Ms: round(percentile(procMs, 50), 2),
      runs,
    }),
  );
} finally {
  await db.$disconnect();
}
