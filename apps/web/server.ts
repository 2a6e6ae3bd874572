import { createServer } from "node:http";
import next from "next";
import { parseEnv, EnvError } from "@wyolo/contracts";
import { webEnvSchema, type WebEnv } from "./src/env-schema";

// The web app's own HTTP server: Next.js plus (from the jobs feature on) socket.io on the same port.
let env: WebEnv;
try {
  env = parseEnv(webEnvSchema, process.env);
} catch (err) {
  if (err instanceof EnvError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const dev = env.NODE_ENV !== "production";
const app = next({ dev, dir: import.meta.dirname, turbopack: true });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  // The client address for rate limits and the audit log comes from the socket, never from the client.
  req.headers["x-wyolo-client-ip"] = req.socket.remoteAddress ?? "unknown";
  void handle(req, res);
});

server.listen(env.PORT, env.HOSTNAME, () => {
  console.log(JSON.stringify({ level: 30, name: "web", msg: `listening on http://${env.HOSTNAME}:${env.PORT}` }));
});

let closing = false;
function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  console.log(JSON.stringify({ level: 30, name: "web", msg: `${signal}: shutting down` }));
  const deadline = setTimeout(() => process.exit(1), 10_000);
  deadline.unref();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
