import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OLD_VARIABLE_NAMES, parseEnv } from "@wyolo/contracts";
import { webEnvSchema } from "../apps/web/src/env-schema";
import { workerEnvSchema } from "../apps/worker/src/env";

type Service = {
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
  cpus?: string;
  mem_limit?: string;
  restart?: string;
};

const composeText = readFileSync(path.join(import.meta.dirname, "../docker-compose.yaml"), "utf8");
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** Every `${NAME…}` compose substitutes (`$${…}` is an escaped `$` for the container's shell). */
const interpolations = [...composeText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g)].map(
  ([text, name, op, arg]) => ({ text, name: name!, op, arg }),
);
const isSecretName = (name: string) => /PASSWORD|SECRET|TOKEN|ACCESS_KEY|MINIO_ROOT_USER/.test(name);
/** Secrets of optional features: empty (feature off) is their only allowed default. */
const optionalSecrets = new Set(["OIDC_CLIENT_SECRET", ...OLD_VARIABLE_NAMES]);
/** The old service's variables: read only so the apps can name them at start, never suggested in an example. */
const oldVariables = new Set(OLD_VARIABLE_NAMES);
const requiredSecrets = ["POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "NEXTAUTH_SECRET", "ADMIN_PASSWORD", "SECRETS_KEY"];

/** The worker's env as a container gets it from compose (an empty value counts as unset). */
const parseEnvCompose = (values: Record<string, string>) => parseEnv(workerEnvSchema, values);

function envFileEntries(file: string): Map<string, string> {
  const text = readFileSync(path.join(import.meta.dirname, "..", file), "utf8");
  return new Map(
    text
      .split("\n")
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("docker-compose.yaml", () => {
  it("has the production stack", () => {
    expect(Object.keys(services).sort()).toEqual(["migrate", "minio", "minio-init", "mlflow", "postgres", "redis", "web", "worker"]);
  });

  it("waits on healthchecks and one-shot services that exist", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === "service_healthy") expect(services[dep]!.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
        if (condition === "service_completed_successfully") expect(services[dep]!.restart, `${dep} is one-shot`).toBe("no");
      }
    }
    expect(services.web!.depends_on!.migrate!.condition).toBe("service_completed_successfully");
  });

  it("lets workers scale: GPU reservation, no fixed name or host port", () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.deploy?.resources?.reservations?.devices?.[0]).toMatchObject({ driver: "nvidia", capabilities: ["gpu"] });
  });

  it("passes the apps only variables they know", () => {
    const webKeys = new Set(Object.keys(webEnvSchema.shape));
    const workerKeys = new Set(Object.keys(workerEnvSchema.shape));
    for (const key of Object.keys(services.web!.environment!)) expect(webKeys.has(key) || oldVariables.has(key), `web: ${key}`).toBe(true);
    for (const key of Object.keys(services.worker!.environment!))
      expect(workerKeys.has(key) || oldVariables.has(key), `worker: ${key}`).toBe(true);
  });

  it("has no default for any secret: compose refuses to start until .env sets it, naming it", () => {
    for (const name of requiredSecrets)
      expect(
        interpolations.some((i) => i.name === name),
        `${name} is used`,
      ).toBe(true);
    for (const { text, name, op, arg } of interpolations.filter((i) => isSecretName(i.name))) {
      if (optionalSecrets.has(name)) {
        expect(text, "an optional secret defaults to empty only").toBe(`\${${name}:-}`);
        continue;
      }
      expect(requiredSecrets, `${name} is a secret the README and .env.production.example list`).toContain(name);
      expect(op, text).toBe(":?");
      expect(arg, text).toBe(`set ${name} in .env (see .env.production.example)`);
    }
  });

  it("holds no literal password", () => {
    expect(composeText).not.toMatch(/wyolo-minio-secret/);
    const secretEntries = Object.entries(services).flatMap(([service, s]) =>
      Object.entries(s.environment ?? {}).map(([key, value]) => ({ service, key, value: String(value) })),
    );
    for (const { service, key, value } of secretEntries.filter((e) => isSecretName(e.key))) {
      expect(value, `${service}.${key}`).toMatch(/^\$\{[A-Z_]+:[?-][^}]*\}$/);
    }
    // Passwords inside connection URLs (DATABASE_URL, MLflow's backend store) come from .env too.
    const urlPasswords = [...composeText.matchAll(/[a-z]+:\/\/[^:/\s]+:([^@\n]+)@/g)].map((m) => m[1]!);
    expect(urlPasswords.length).toBeGreaterThanOrEqual(2);
    for (const password of urlPasswords)
      expect(password).toBe("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (see .env.production.example)}");
  });

  it("has every variable it reads in .env.production.example, with the secrets left empty", () => {
    const example = envFileEntries(".env.production.example");
    for (const { name } of interpolations.filter((i) => !oldVariables.has(i.name)))
      expect(example.has(name), `${name} in .env.production.example`).toBe(true);
    for (const name of oldVariables) expect(example.has(name), `${name} is not suggested`).toBe(false);
    for (const name of requiredSecrets.filter((n) => n !== "MINIO_ROOT_USER")) expect(example.get(name), name).toBe("");
    expect(example.get("OIDC_CLIENT_SECRET")).toBe("");
  });

  it("takes each worker container's limits and the worker's own from WORKER_CPU_CORES / WORKER_RAM_MEMORY (the old service's)", () => {
    const worker = services.worker!;
    expect(worker.cpus).toBe("${WORKER_CPU_CORES:-0}");
    expect(worker.mem_limit).toBe("${WORKER_RAM_MEMORY:-0}");
    expect(worker.environment).toMatchObject({ WORKER_CPU_CORES: "${WORKER_CPU_CORES:-}", WORKER_RAM_MEMORY: "${WORKER_RAM_MEMORY:-}" });
    // The compose defaults ("no limit") are what the worker reads as none.
    const none = parseEnvCompose({ WORKER_CPU_CORES: "", WORKER_RAM_MEMORY: "0" });
    expect(none.WORKER_CPU_CORES).toBeUndefined();
    expect(none.WORKER_RAM_MEMORY).toBeUndefined();
    expect(parseEnvCompose({ WORKER_CPU_CORES: "4", WORKER_RAM_MEMORY: "8G" })).toMatchObject({
      WORKER_CPU_CORES: 4,
      WORKER_RAM_MEMORY: 8 * 1024 ** 3,
    });
  });

  it("gives the web app the training defaults, and web and workers the old variables to name", () => {
    expect(services.web!.environment).toMatchObject({
      DEFAULT_EPOCHS: "${DEFAULT_EPOCHS:-}",
      DEFAULT_BATCH_SIZE: "${DEFAULT_BATCH_SIZE:-}",
    });
    for (const name of OLD_VARIABLE_NAMES) {
      expect(services.web!.environment![name], `web: ${name}`).toBe(`\${${name}:-}`);
      expect(services.worker!.environment![name], `worker: ${name}`).toBe(`\${${name}:-}`);
    }
  });

  it("publishes MLflow (no sign-in of its own) and the MinIO console on this host only by default", () => {
    expect(services.mlflow!.ports).toEqual(["${MLFLOW_PUBLISH:-127.0.0.1:5000}:5000"]);
    expect(services.minio!.ports).toContain("127.0.0.1:9001:9001");
  });
});
