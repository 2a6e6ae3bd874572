import type { ApiOperation } from "../operations";

/** The resources routes (one entry per route file and method), with their answer schemas beside them. */
export const RESOURCES_OPERATIONS: ApiOperation[] = [];
