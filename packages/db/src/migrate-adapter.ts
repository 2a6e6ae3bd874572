import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";

// Prisma 6's JS schema engine (the only one that works without downloading a native binary)
// trips over Postgres catalog types it cannot deserialize (prisma/prisma#27403). Reporting them
// as text keeps `migrate deploy/dev` working offline.
const CATALOG_OIDS = new Set([18, 19, 22, 24, 30, 194, 2205, 1002, 1003]);
const TEXT_OID = 25;

type QueryResultLike = { fields?: { dataTypeID: number }[] };

function asText<T>(result: T): T {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results as QueryResultLike[]) {
    for (const field of r?.fields ?? []) {
      if (CATALOG_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

class CatalogAsTextClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const cbIndex = args.findIndex((a) => typeof a === "function");
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as (err: Error | null, res: unknown) => void;
      args[cbIndex] = (err: Error | null, res: unknown) => cb(err, err ? res : asText(res));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (super.query as any)(...args);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = (super.query as any)(...args);
    return out && typeof out.then === "function" ? out.then(asText) : out;
  }
}

/**
 * A PrismaPg factory for the migrate commands. The shadow database gets discrete connection
 * settings (a connectionString would win over `database`), and its pool is closed before the
 * drop so Postgres lets it go.
 */
export class MigratePg extends PrismaPg {
  private readonly settings: pg.PoolConfig;

  constructor(databaseUrl: string) {
    const url = new URL(databaseUrl);
    const settings: pg.PoolConfig = {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username) || undefined,
      password: decodeURIComponent(url.password) || undefined,
      database: decodeURIComponent(url.pathname.slice(1)) || undefined,
      Client: CatalogAsTextClient,
      max: 2,
    };
    super(settings);
    this.settings = settings;
  }

  override async connectToShadowDb() {
    const main = await this.connect();
    const database = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new PrismaPg({ ...this.settings, database }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await main.dispose();
    };
    return shadow;
  }
}
