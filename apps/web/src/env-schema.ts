import { z } from "zod";
import { parseByteSize } from "@wyolo/contracts";
import { secretsKeyEnv } from "@wyolo/db/secret-box";
import { allowListEnv } from "@wyolo/db/webhook-target";

const bool = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");

const byteSize = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = typeof v === "number" ? v : parseByteSize(v);
  if (bytes === null || bytes <= 0) {
    ctx.addIssue({ code: "custom", message: "bytes, or a size such as 500M or 50G" });
    return z.NEVER;
  }
  return bytes;
});

const optional = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

export const webEnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    /** Web processes sharing the port (Node cluster); 1 = no cluster. */
    WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOSTNAME: z.string().default("0.0.0.0"),
    DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/wyolo"),
    REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
    NEXTAUTH_URL: z.url().default("http://localhost:3000"),
    NEXTAUTH_SECRET: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -base64 32`)"),
    SESSION_MAX_AGE_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24 * 7),
    INVITE_TTL_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24 * 7),
    /** Failed sign-ins per account from one IP (and wrong current passwords per user) in the window. */
    LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
    LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
    /**
     * Longest an account's gate stays closed to IPs it never signed in from, while failures pile up
     * from many IPs: one check per 1 s, 2 s, … up to this. The owner may wait this long under attack.
     */
    LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
    /**
     * Behind exactly one trusted reverse proxy that appends the client's address to X-Forwarded-For:
     * the rightmost entry is taken as the client. Never set it without such a proxy in front.
     */
    TRUST_PROXY: bool.default(false),
    OIDC_ISSUER: optional.pipe(z.url().optional()),
    OIDC_CLIENT_ID: optional,
    OIDC_CLIENT_SECRET: optional,
    OIDC_NAME: z.string().default("Single sign-on"),
    TRAINING_QUEUE: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default("training"),
    /** MLflow's web UI, for links from job pages; defaults to MLFLOW_TRACKING_URI. Unset = MLflow not configured. */
    MLFLOW_TRACKING_URI: z.url().optional(),
    MLFLOW_UI_URL: z.url().optional(),
    /** Object store of artifacts (as the worker uses it) and the endpoint browsers reach for downloads. */
    S3_ENDPOINT: z.url().optional(),
    S3_PUBLIC_ENDPOINT: z.url().optional(),
    S3_REGION: z.string().default("us-east-1"),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    S3_BUCKET: z.string().default("wyolo-artifacts"),
    S3_FORCE_PATH_STYLE: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    /** How long a download link works. */
    DOWNLOAD_URL_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .default(900),
    /** Largest dataset archive one upload may declare (bytes, or 50G, 500M…). */
    DATASET_MAX_UPLOAD_BYTES: byteSize.default(50 * 1024 ** 3),
    /** What a team's datasets may hold in the object store: stored files (each content once) plus archives in flight. */
    DATASET_TEAM_QUOTA_BYTES: byteSize.default(500 * 1024 ** 3),
    /** How long a presigned upload part URL works (a new one is asked for when it ran out). */
    DATASET_UPLOAD_URL_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3_600),
    /**
     * Whether the web app adds a CORS rule for browser uploads (PUT from NEXTAUTH_URL's origin, exposing ETag) to the
     * bucket at the first upload. false: the bucket's CORS is managed outside (see docs/datasets.md).
     */
    S3_CONFIGURE_CORS: bool.default(true),
    /**
     * Platform-wide training defaults (the old service's variables): a config that leaves out `train.epochs`
     * or `train.batch` gets these, and the job says where they came from. Unset = Ultralytics' defaults (100, 16).
     */
    DEFAULT_EPOCHS: z.coerce.number().int().min(1).max(10_000).optional(),
    DEFAULT_BATCH_SIZE: z.coerce
      .number()
      .int()
      .min(-1)
      .max(4096)
      .refine((v) => v !== 0, "-1 (auto) or a batch size ≥ 1")
      .optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Key of the secrets stored encrypted (webhook URLs and signing secrets): 32 bytes, base64 or hex; the same on web and workers. Unset = no webhooks. */
    SECRETS_KEY: secretsKeyEnv,
    /** Hosts, IPs and CIDR ranges webhooks may call although private, loopback or link-local (comma list). */
    WEBHOOK_ALLOWED_HOSTS: allowListEnv,
  })
  .superRefine((env, ctx) => {
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      for (const key of ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"] as const) {
        if (!env[key]) ctx.addIssue({ code: "custom", path: [key], message: "required when OIDC is configured" });
      }
    }
  });

export type WebEnv = z.infer<typeof webEnvSchema>;
