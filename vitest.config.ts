import path from "node:path";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;
const alias = {
  "@": path.join(root, "apps/web/src"),
  // Next.js resolves this to an empty module on the server; tests run server code directly.
  "server-only": path.join(root, "test/empty-module.ts"),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["{apps,packages}/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "**/node_modules/**"],
          environment: "node",
          env: { LOG_LEVEL: "silent" },
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["{apps,packages}/**/*.integration.test.ts", "test/**/*.integration.test.ts"],
          exclude: ["**/node_modules/**"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          setupFiles: ["test/integration/per-file-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Files one at a time: they start worker and trainer processes, and on two cores a
          // second file's processes would starve the first's timing.
          fileParallelism: false,
        },
      },
    ],
  },
});
