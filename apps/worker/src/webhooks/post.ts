import http from "node:http";
import https from "node:https";
import { pinnedLookup, type Target } from "@wyolo/db/webhook-target";

export const SNIPPET_BYTES = 1024;

export type PostResult = { status: number; durationMs: number; snippet: string } | { error: string; durationMs: number };

/**
 * One POST to a checked target, connected to the address the guard checked (no second DNS
 * lookup). Redirects are not followed (a 3xx is an answer like any other); the whole exchange is
 * bounded by `timeoutMs`; at most SNIPPET_BYTES of the answer are read.
 */
export function postPinned(target: Target, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { url } = target;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      {
        method: "POST",
        protocol: url.protocol,
        hostname: target.host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(target.addresses[0]!) as never,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          done({
            status: res.statusCode ?? 0,
            durationMs: elapsed(),
            snippet: Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString("utf8"),
          });
          res.destroy();
        };
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= SNIPPET_BYTES) finish();
        });
        res.on("end", finish);
        res.on("error", finish);
      },
    );
    const timer = setTimeout(() => {
      done({ error: `no answer within ${timeoutMs} ms`, durationMs: elapsed() });
      req.destroy();
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) =>
      done({ error: err.code ? `${err.code}: ${err.message}` : err.message, durationMs: elapsed() }),
    );
    req.end(body);
  });
}
