import type { ApiOperation } from "../operations";

/** The datasets routes (one entry per route file and method), with their answer schemas beside them. */
export const DATASETS_OPERATIONS: ApiOperation[] = [];
