import "server-only";
import { notFound, redirect } from "next/navigation";
import { AppError } from "./errors";
import { currentUser, type SessionUser } from "./auth/session";

/** For pages: the signed-in user, or a redirect to sign-in that comes back here. */
export async function requirePageUser(returnTo: string): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(`/signin?callbackUrl=${encodeURIComponent(returnTo)}`);
  return user;
}

/** Runs an access check for a page: NOT_FOUND renders the 404 page; FORBIDDEN too, since pages show only what a role may read. */
export async function orNotFound<T>(check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    if (err instanceof AppError && (err.code === "NOT_FOUND" || err.code === "FORBIDDEN")) notFound();
    throw err;
  }
}
