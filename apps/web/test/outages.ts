import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

// Real outages for tests: a redis-server of the test's own that it kills and starts again (for
// Postgres, test/integration/pg-proxy.ts: a TCP proxy the test cuts). The shared services are never touched.

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** A redis-server without persistence on a free port: `kill` is a SIGKILL (its data is gone), `start` a fresh one on the same port. */
export async function ownRedis() {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const self = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (proc && proc.exitCode === null) return;
      proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdio: "ignore",
      });
      for (let i = 0; i < 200; i++) {
        if (await listening(port)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("redis-server did not start");
    },
    async kill() {
      const p = proc;
      proc = undefined;
      if (p && p.exitCode === null) await new Promise((r) => (p.once("exit", r), p.kill("SIGKILL")));
    },
  };
  await self.start();
  return self;
}

/** Calls `attempt` every 50 ms until it returns true; the milliseconds it took, or throws after `limitMs`. */
export async function msUntil(attempt: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await attempt().catch(() => false)) return Math.round(performance.now() - started);
    if (performance.now() - started > limitMs) throw new Error(`not recovered within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
