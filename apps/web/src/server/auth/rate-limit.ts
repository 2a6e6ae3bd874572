import "server-only";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
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

const perAccount = limiter("wyolo:login-fail:account", env.LOGIN_MAX_FAILURES_PER_ACCOUNT);
const perIp = limiter("wyolo:login-fail:ip", env.LOGIN_MAX_FAILURES_PER_IP);

/** True when this account or this IP has used up its failed attempts for the window. */
export async function isLoginBlocked(email: string, ip: string): Promise<boolean> {
  const [account, address] = await Promise.all([perAccount.get(email), perIp.get(ip)]);
  return (account?.consumedPoints ?? 0) >= env.LOGIN_MAX_FAILURES_PER_ACCOUNT ||
    (address?.consumedPoints ?? 0) >= env.LOGIN_MAX_FAILURES_PER_IP;
}

export async function recordLoginFailure(email: string, ip: string): Promise<void> {
  await Promise.all([perAccount.penalty(email, 1), perIp.penalty(ip, 1)]);
}

export async function clearAccountFailures(email: string): Promise<void> {
  await perAccount.delete(email);
}
