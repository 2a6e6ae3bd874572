import cluster from "node:cluster";
import { createServer } from "node:http";
import next from "next";
import { parseEnvOrExit } from "@wyolo/contracts";
import { webEnvSchema, type WebEnv } from "./src/env-schema";
import { staticSecurityHeaders } from "./src/server/security-headers";
import { handleWithOutageStatus } from "./src/server/page-outage";

// The web app's own HTTP server: Next.js and socket.io share one port.
// Start: node --import ./apps/web/server-only-shim.mjs --import tsx apps/web/server.ts (from the repo root).
const env: WebEnv = parseEnvOrExit(webEnvSchema, process.env);

// WEB_CONCURRENCY > 1 forks that many processes sharing the port (one core each). socket.io
// then needs the websocket transport (no long-polling, which would need sticky sessions);
// the Redis adapter carries events between the processes.
if (cluster.isPrimary && env.WEB_CONCURRENCY > 1) {
  let stopping = false;
  const log = (level: number, msg: string) => console.error(JSON.stringify({ level, name: "web", msg }));
  cluster.on("exit", (w, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log(50, `web process ${w.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    setTimeout(() => process.exit(1), 12_000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let i = 0; i < env.WEB_CONCURRENCY; i++) cluster.fork();
  log(30, `started ${env.WEB_CONCURRENCY} web processes`);
  await new Promise(() => {});
}

const dev = env.NODE_ENV !== "production";
const app = next({ dev, dir: import.meta.dirname, turbopack: true });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  // The client address for rate limits and the audit log comes from the socket, never from the client.
  req.headers["x-wyolo-client-ip"] = req.socket.remoteAddress ?? "unknown";
  // A page that finds Postgres or Redis down is answered 503 + Retry-After, not Next.js's 500.
  void handleWithOutageStatus(req, res, handle);
});

// Imported after env validation: these modules read env when loaded.
const { attachRealtime } = await import("./src/realtime/socket-server");
const { reconcileQueue } = await import("./src/server/jobs/reconcile-queue");
const { logger } = await import("./src/server/logger");
const realtime = attachRealtime(server, env.REDIS_URL);
// Prepended after socket.io took over the "request" event, so every answer gets them: pages,
// API, static files, 404s and socket.io polling. proxy.ts replaces the CSP of pages.
const securityHeaders = Object.entries(staticSecurityHeaders(env.NEXTAUTH_URL));
server.prependListener("request", (_req, res) => {
  for (const [name, value] of securityHeaders) res.setHeader(name, value);
});
process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));

// Repairs rows whose queue entry was never written (a crash between the two) and fails rows whose
// entry the queue gave up on, now and every minute.
const reconcile = () => reconcileQueue().catch((err: Error) => logger.warn({ err: { message: err.message } }, "queue reconcile failed"));
const reconciles = !cluster.isWorker || cluster.worker?.id === 1;
if (reconciles) void reconcile();
const reconcileTimer = setInterval(() => reconciles && void reconcile(), 60_000);
reconcileTimer.unref();

server.listen(env.PORT, env.HOSTNAME, () => logger.info(`listening on http://${env.HOSTNAME}:${env.PORT}`));

let closing = false;
function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  logger.info(`${signal}: shutting down`);
  const deadline = setTimeout(() => process.exit(1), 10_000);
  deadline.unref();
  clearInterval(reconcileTimer);
  void realtime.close().finally(() => server.close(() => process.exit(0)));
  server.closeIdleConnections();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
