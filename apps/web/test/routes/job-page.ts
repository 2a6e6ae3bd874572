import type { BaseWorld, World } from "../api-world";
import type { MatrixEntries, SuccessEntries } from "./types";

// The job-page routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.jobPage).

export async function seed(_base: BaseWorld) {
  return {};
}

export const success: SuccessEntries = {};
export const matrix: MatrixEntries = {};
/** Path parameters (beyond the shared world's) and bodies for the outage test's calls. */
export const outageIds = (_w: World): Record<string, string> => ({});
export const outageBodies = (_w: World): Record<string, unknown> => ({});
/** Routes of this domain that need Redis (503 while it is away). */
export const needsRedis: string[] = [];
