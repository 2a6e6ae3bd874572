export * from "./roles.ts";
export * from "./errors.ts";
export * from "./schemas.ts";
export * from "./queue.ts";
export * from "./env.ts";
