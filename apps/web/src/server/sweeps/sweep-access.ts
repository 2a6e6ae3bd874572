import "server-only";
import { can, grantAllows, scopeFor, type Permission } from "@wyolo/contracts";
import { db } from "../db";
import { allows, projectAccess } from "../access";
import { AppError, forbidden, notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** A sweep's project access; a sweep in a team the caller cannot see answers 404, like the project. */
export async function sweepAccess(user: SessionUser, sweepId: string, permission: Permission) {
  const sweep = await db.sweep.findUnique({
    where: { id: sweepId },
    select: { id: true, projectId: true, createdById: true, status: true, name: true },
  });
  if (!sweep) throw notFound("Sweep not found");
  try {
    return { sweep, ...(await projectAccess(user, { id: sweep.projectId }, permission)) };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") throw notFound("Sweep not found");
    throw err;
  }
}

/** Cancel or add trials: `sweep.update.any`, or `sweep.update.own` on a sweep of your own (as a job's cancel). */
export async function sweepUpdateAccess(user: SessionUser, sweepId: string) {
  const access = await sweepAccess(user, sweepId, "job.read");
  const { role, sweep } = access;
  const allowed = allows(access, "sweep.update.any") || (sweep.createdById === user.id && allows(access, "sweep.update.own"));
  if (!allowed) {
    if (!grantAllows(access.grant, "sweep.update.own")) throw forbidden(`This token lacks the "${scopeFor("sweep.update.own")}" scope`);
    throw forbidden(can(role, "sweep.update.own") ? "You can change only your own sweeps" : "Your role does not allow this");
  }
  return access;
}
