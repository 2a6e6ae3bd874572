// Seeds the first platform admin and a demo team/project. Safe to run again: it never
// overwrites an existing user's password or renames existing rows.
import { z } from "zod";
import { createDb } from "@wyolo/db";
import { parseEnv, EnvError, emailSchema } from "@wyolo/contracts";
import { hashPassword } from "@wyolo/db/password";

const envSchema = z.object({
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/wyolo"),
  ADMIN_EMAIL: emailSchema.default("admin@wyolo.local"),
  ADMIN_PASSWORD: z.string().min(10, "must be at least 10 characters").optional(),
  ADMIN_NAME: z.string().min(1).default("Platform Admin"),
  SEED_DEMO: z.enum(["true", "false"]).default("true"),
});

async function main() {
  const env = parseEnv(envSchema, process.env);
  const db = createDb(env.DATABASE_URL, { poolSize: 2 });
  try {
    let admin = await db.user.findUnique({ where: { email: env.ADMIN_EMAIL }, select: { id: true } });
    if (!admin) {
      if (!env.ADMIN_PASSWORD)
        throw new EnvError("Invalid environment configuration:\n  ADMIN_PASSWORD: required to create the first admin");
      admin = await db.user.create({
        data: { email: env.ADMIN_EMAIL, name: env.ADMIN_NAME, passwordHash: await hashPassword(env.ADMIN_PASSWORD), isPlatformAdmin: true },
        select: { id: true },
      });
      console.log(`seed: created platform admin ${env.ADMIN_EMAIL}`);
    } else {
      await db.user.update({ where: { id: admin.id }, data: { isPlatformAdmin: true, disabled: false } });
      console.log(`seed: platform admin ${env.ADMIN_EMAIL} exists`);
    }
    if (env.SEED_DEMO === "true") {
      const team = await db.team.upsert({
        where: { slug: "demo" },
        update: {},
        create: { name: "Demo team", slug: "demo" },
        select: { id: true },
      });
      await db.membership.upsert({
        where: { teamId_userId: { teamId: team.id, userId: admin.id } },
        update: {},
        create: { teamId: team.id, userId: admin.id, role: "OWNER" },
      });
      await db.project.upsert({
        where: { teamId_slug: { teamId: team.id, slug: "shapes" } },
        update: {},
        create: {
          teamId: team.id,
          name: "Shapes detector",
          slug: "shapes",
          description: "Demo: detect synthetic shapes",
          createdById: admin.id,
        },
      });
      console.log("seed: demo team 'demo' with project 'shapes' ready");
    }
  } finally {
    await db.$disconnect();
  }
}

main().catch((err) => {
  console.error(err instanceof EnvError ? err.message : err);
  process.exit(1);
});
