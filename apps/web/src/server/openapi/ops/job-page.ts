import type { ApiOperation } from "../operations";

/** The job-page routes (one entry per route file and method), with their answer schemas beside them. */
export const JOB_PAGE_OPERATIONS: ApiOperation[] = [];
