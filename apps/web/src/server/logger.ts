import "server-only";
import pino from "pino";

/** JSON logs on stdout. Anything that may carry a secret is redacted before it is written. */
export const logger = pino({
  name: "web",
  level: process.env.LOG_LEVEL ?? "info",
  redact: {
    paths: [
      "password",
      "*.password",
      "*.newPassword",
      "*.currentPassword",
      "token",
      "*.token",
      "*.passwordHash",
      "headers.cookie",
      "headers.authorization",
    ],
    censor: "[redacted]",
  },
});
