import pino from "pino";

export function createLogger(level: string, name: string) {
  return pino({
    name: "worker",
    level,
    base: { worker: name },
    redact: { paths: ["*.password", "*.secret", "*.token", "*.secretAccessKey"], censor: "[redacted]" },
  });
}
export type Logger = ReturnType<typeof createLogger>;
