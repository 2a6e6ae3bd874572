import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/**
 * A real S3 server process (s3rver) on loopback for one test file, and the env that points the
 * web modules and workers at it. The file assigns `env` to process.env before importing them.
 */
export async function startS3rver(opts: { extraBuckets?: string[] } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-s3-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: (opts.extraBuckets ?? []).map((name) => ({ name })),
  });
  const { port } = await server.run();
  const env = {
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_ACCESS_KEY_ID: "S3RVER",
    S3_SECRET_ACCESS_KEY: "S3RVER",
    S3_BUCKET: "wyolo-artifacts",
  };
  return { env, close: () => server.close() };
}
