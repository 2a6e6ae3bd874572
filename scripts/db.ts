// `tsx scripts/db.ts ensure` creates the database named in DATABASE_URL when it is missing;
// `tsx scripts/db.ts reset` drops and re-creates it. No psql needed.
import pg from "pg";

const target = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/wyolo");
const name = decodeURIComponent(target.pathname.slice(1));
const admin = new URL(target);
admin.pathname = "/postgres";

const command = process.argv[2];
if (command !== "ensure" && command !== "reset") {
  console.error("usage: tsx scripts/db.ts ensure|reset");
  process.exit(2);
}
if (!/^[A-Za-z0-9_-]+$/.test(name)) {
  console.error(`DATABASE_URL: database name "${name}" must be letters, digits, _ or -`);
  process.exit(2);
}

const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
try {
  await client.connect();
} catch (err) {
  console.error(`Cannot reach Postgres at ${target.host} (${(err as Error).message}).`);
  console.error("Start Postgres there, or set DATABASE_URL in .env to a server you can reach.");
  process.exit(1);
}
try {
  if (command === "reset") await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  const exists = (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  if (!exists) {
    await client.query(`CREATE DATABASE "${name}"`);
    console.log(`db: created database ${name}`);
  }
} finally {
  await client.end();
}
