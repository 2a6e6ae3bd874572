import "server-only";
import { TOKEN_DEFAULT_DAYS, type CreateTokenInput } from "@wyolo/contracts";

/** An exact date wins over a number of days; neither → the default (90 days). The schema caps both at a year. */
export function tokenExpiry(input: Pick<CreateTokenInput, "expiresAt" | "expiresInDays">, now = Date.now()): Date {
  if (input.expiresAt) return input.expiresAt;
  return new Date(now + (input.expiresInDays ?? TOKEN_DEFAULT_DAYS) * 86_400_000);
}
