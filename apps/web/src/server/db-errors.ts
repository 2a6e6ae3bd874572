import "server-only";

// Defined once in @wyolo/db, where the worker reads them too.
export { isDatabaseUnavailable, isUniqueViolation } from "@wyolo/db";
