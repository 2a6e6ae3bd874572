import type { ApiOperation } from "../operations";

/** The compare routes (one entry per route file and method), with their answer schemas beside them. */
export const COMPARE_OPERATIONS: ApiOperation[] = [];
