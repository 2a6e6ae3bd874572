import "server-only";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { env } from "@/env";
import { redis } from "../redis";

const window = env.LOGIN_FAILURE_WINDOW_MINUTES * 60;

function limiter(keyPrefix: string, points: number): RateLimiterAbstract {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration: window,
    // While Redis is away the limits still hold, per process.
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: window }),
  });
}

// Attempts are consumed before the password is checked (one atomic INCR each), so parallel
// attempts cannot all pass a check that reads the count first. The owner's own pair (account +
// their IP) is never used up by a stranger elsewhere: OWASP's advice against lock-outs by others.
const perPair = limiter("wyolo:login:pair", env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
const perIp = limiter("wyolo:login:ip", env.LOGIN_MAX_FAILURES_PER_IP);
// Every IP's checked attempts on one account: never refuses, only delays (see loginDelayMs).
const perAccount = limiter("wyolo:login:account", Number.MAX_SAFE_INTEGER);
const passwordChecks = limiter("wyolo:password-check:user", env.LOGIN_MAX_FAILURES_PER_ACCOUNT);

const pairKey = (email: string, ip: string) => `${ip}/${email}`; // IPs never contain "/"

/**
 * The wait before checking the password of an account that has had `attempts` checked attempts
 * in the window from all IPs together: none for the first LOGIN_MAX_FAILURES_PER_ACCOUNT, then
 * 1 s doubling per attempt, capped at LOGIN_MAX_DELAY_SECONDS: a slow-down, never a lock-out.
 */
export function loginDelayMs(attempts: number): number {
  const over = attempts - env.LOGIN_MAX_FAILURES_PER_ACCOUNT;
  if (over <= 0) return 0;
  return Math.min(env.LOGIN_MAX_DELAY_SECONDS * 1000, 1000 * 2 ** Math.min(over - 1, 30));
}

/** Refused by a limit (a RateLimiterRes), as opposed to a store error, which stays an error. */
function refusedByLimit(results: PromiseSettledResult<unknown>[]): boolean {
  for (const r of results) {
    if (r.status === "rejected" && !(r.reason instanceof RateLimiterRes)) throw r.reason;
  }
  return results.some((r) => r.status === "rejected");
}

export type LoginAttempt = { allowed: false } | { allowed: true; delayMs: number; succeeded: () => Promise<void> };

/** Counts a sign-in attempt before its password is checked. */
export async function beginLoginAttempt(email: string, ip: string): Promise<LoginAttempt> {
  const pair = pairKey(email, ip);
  const consumed = await Promise.allSettled([perPair.consume(pair), perIp.consume(ip)]);
  if (refusedByLimit(consumed)) return { allowed: false };
  // This pair's attempts in the window, this one included; each also counted on the IP and the account.
  const pairAttempts = (consumed[0] as PromiseFulfilledResult<RateLimiterRes>).value.consumedPoints;
  const account = await perAccount.consume(email);
  return {
    allowed: true,
    delayMs: loginDelayMs(account.consumedPoints),
    // The right password vouches for this pair's earlier attempts (the owner's typos): they are
    // given back everywhere. Other pairs' failures on the account or the IP stay counted.
    succeeded: async () => {
      await Promise.all([perPair.delete(pair), perIp.reward(ip, pairAttempts), perAccount.reward(email, pairAttempts)]);
    },
  };
}

export type PasswordCheck = { allowed: false } | { allowed: true; succeeded: () => Promise<void> };

/** Counts a check of a signed-in user's current password (account page) before it is made. */
export async function beginPasswordCheck(userId: string): Promise<PasswordCheck> {
  if (refusedByLimit(await Promise.allSettled([passwordChecks.consume(userId)]))) return { allowed: false };
  return { allowed: true, succeeded: async () => void (await passwordChecks.delete(userId)) };
}
