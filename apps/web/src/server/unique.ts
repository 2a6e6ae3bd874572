import "server-only";
import { AppError } from "./errors";
import { isUniqueViolation } from "./db-errors";

/** Runs `create` with `base`, then `base-2`, `base-3`… while the slug is taken (only when the slug was derived, not chosen). */
export async function withFreeSlug<T>(base: string, chosen: boolean, create: (slug: string) => Promise<T>): Promise<T> {
  for (let n = 1; n <= 20; n++) {
    const slug = n === 1 ? base : `${base.slice(0, 44)}-${n}`;
    try {
      return await create(slug);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (chosen) throw new AppError("CONFLICT", "That slug is taken", { slug: ["That slug is taken"] });
    }
  }
  throw new AppError("CONFLICT", "Could not find a free slug; choose one", { slug: ["Choose a slug"] });
}
