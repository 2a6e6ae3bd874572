import type { ApiOperation } from "../operations";

/** The models routes (one entry per route file and method), with their answer schemas beside them. */
export const MODELS_OPERATIONS: ApiOperation[] = [];
