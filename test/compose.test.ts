import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { webEnvSchema } from "../apps/web/src/env-schema";
import { workerEnvSchema } from "../apps/worker/src/env";

type Service = {
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
  restart?: string;
};

const compose = parse(readFileSync(path.join(import.meta.dirname, "../docker-compose.yaml"), "utf8"), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

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
    for (const key of Object.keys(services.web!.environment!)) expect(webKeys.has(key), `web: ${key}`).toBe(true);
    for (const key of Object.keys(services.worker!.environment!)) expect(workerKeys.has(key), `worker: ${key}`).toBe(true);
  });
});
