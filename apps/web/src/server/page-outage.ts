import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { RETRY_SECONDS } from "../lib/outage-message";

// How a page that cannot reach Postgres or Redis is answered 503 rather than Next.js's 500: the
// custom server (server.ts) runs each request in a store, the page marks it (pages.ts), and the
// status is swapped as the head is written. The store lives on globalThis because server.ts and
// the pages are loaded by different module systems (tsx and Next.js's bundle) in one process.

export type UnavailableService = "postgres" | "redis";
type RequestOutage = { service: UnavailableService | null };

const KEY = Symbol.for("wyolo.pageOutage");
const holder = globalThis as unknown as { [KEY]?: AsyncLocalStorage<RequestOutage> };
const store: AsyncLocalStorage<RequestOutage> = (holder[KEY] ??= new AsyncLocalStorage<RequestOutage>());

/** Notes that this request's page failed because `service` is down (no effect outside server.ts's store). */
export function markPageOutage(service: UnavailableService): void {
  const outage = store.getStore();
  if (outage) outage.service = service;
}

/**
 * Runs Next.js's handler for one request so that a page marked by `markPageOutage` is answered
 * 503 with Retry-After instead of the 500 Next.js gives any error thrown before the page's first
 * byte. A page whose head has already been sent (streamed past a Suspense boundary) keeps its status.
 */
export function handleWithOutageStatus(
  req: IncomingMessage,
  res: ServerResponse,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<void> {
  const outage: RequestOutage = { service: null };
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    if (status === 500 && outage.service) {
      res.setHeader("retry-after", String(RETRY_SECONDS));
      res.setHeader("cache-control", "no-store");
      return writeHead(503, ...rest);
    }
    return writeHead(status, ...rest);
  }) as typeof res.writeHead;
  return store.run(outage, () => handle(req, res));
}
