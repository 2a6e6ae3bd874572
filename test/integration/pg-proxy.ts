import net from "node:net";

/**
 * A TCP proxy in front of the test's Postgres that a test cuts (listener closed, open connections
 * destroyed: clients get "connection refused") and restores on the same port. The outage is real.
 */
export async function startPgProxy(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => (client.destroy(), upstream.destroy(), sockets.delete(s)));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: Object.assign(new URL(target), { hostname: "127.0.0.1", port: String(port) }).toString(),
    async cut() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    /** Drops the open connections but keeps listening: a connection lost under a running query. */
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    // A no-op when it is not cut, so a test may restore in a cleanup hook as well.
    async restore() {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
  };
}
