import "server-only";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { env } from "@/env";
import { redis } from "../redis";
import { rateLimitKey } from "../request-ip";

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
const passwordChecks = limiter("wyolo:password-check:user", env.LOGIN_MAX_FAILURES_PER_ACCOUNT);

const pairKey = (email: string, ip: string) => `${ip}/${email}`; // rate-limit keys never contain "/"

/**
 * The gate an account's next attempt from an unknown IP must wait for, given `attempts` attempts
 * let through in the window from all IPs together: none for the first
 * LOGIN_MAX_FAILURES_PER_ACCOUNT, then 1 s doubling per attempt, capped at LOGIN_MAX_DELAY_SECONDS.
 */
export function loginDelayMs(attempts: number): number {
  const over = attempts - env.LOGIN_MAX_FAILURES_PER_ACCOUNT;
  if (over <= 0) return 0;
  return Math.min(env.LOGIN_MAX_DELAY_SECONDS * 1000, 1000 * 2 ** Math.min(over - 1, 30));
}

const GATE_PREFIX = "wyolo:login:gate:";
const KNOWN_PREFIX = "wyolo:login:known:";
const KNOWN_TTL_SECONDS = 30 * 24 * 3600;
const windowMs = window * 1000;

// Per account, in one step: refuse (-1) an attempt before the gate's time; otherwise count it
// and move the gate to now + the delay its successor must wait. Moved when the attempt is let
// through, before its password is checked, so a parallel burst from many IPs gets one check.
const GATE_SCRIPT = `
local now = tonumber(ARGV[1])
if now < tonumber(redis.call('HGET', KEYS[1], 'at') or '0') then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local over = n + 1 - tonumber(ARGV[2])
if over > 0 then
  redis.call('HSET', KEYS[1], 'at', now + math.min(tonumber(ARGV[3]), 1000 * 2 ^ math.min(over - 1, 30)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return n`;
// A success gives back its pair's attempts on the account (never below zero).
const GIVE_BACK_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'n') or '0') - tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'n', n)
return n`;

type Gate = { n: number; at: number; expires: number };
/** The gate and known pairs while Redis is away: per process, like rate-limiter-flexible's insurance. */
const memory = { gates: new Map<string, Gate>(), known: new Map<string, number>() };

function memoryGate(email: string, now: number): Gate {
  const g = memory.gates.get(email);
  if (g && g.expires > now) return g;
  // A long outage must not grow the map without end: expired gates go once it is large.
  if (memory.gates.size > 10_000) for (const [k, v] of memory.gates) if (v.expires <= now) memory.gates.delete(k);
  const fresh = { n: 0, at: 0, expires: now + windowMs };
  memory.gates.set(email, fresh);
  return fresh;
}

async function passGate(email: string): Promise<boolean> {
  const now = Date.now();
  try {
    const n = await redis.eval(
      GATE_SCRIPT,
      1,
      GATE_PREFIX + email,
      now,
      env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      env.LOGIN_MAX_DELAY_SECONDS * 1000,
      windowMs,
    );
    return Number(n) >= 0;
  } catch {
    const g = memoryGate(email, now);
    if (now < g.at) return false;
    g.n += 1;
    g.at = now + loginDelayMs(g.n + 1);
    g.expires = now + windowMs;
    return true;
  }
}

async function giveBackGate(email: string, attempts: number): Promise<void> {
  try {
    await redis.eval(GIVE_BACK_SCRIPT, 1, GATE_PREFIX + email, attempts);
  } catch {
    const g = memory.gates.get(email);
    if (g) g.n = Math.max(0, g.n - attempts);
  }
}

async function isKnownPair(pair: string): Promise<boolean> {
  try {
    return (await redis.exists(KNOWN_PREFIX + pair)) === 1;
  } catch {
    return (memory.known.get(pair) ?? 0) > Date.now();
  }
}

async function rememberPair(pair: string): Promise<void> {
  try {
    await redis.set(KNOWN_PREFIX + pair, "1", "EX", KNOWN_TTL_SECONDS);
  } catch {
    memory.known.set(pair, Date.now() + KNOWN_TTL_SECONDS * 1000);
  }
}

/** Refused by a limit (a RateLimiterRes), as opposed to a store error, which stays an error. */
function refusedByLimit(results: PromiseSettledResult<unknown>[]): boolean {
  for (const r of results) {
    if (r.status === "rejected" && !(r.reason instanceof RateLimiterRes)) throw r.reason;
  }
  return results.some((r) => r.status === "rejected");
}

export type LoginAttempt = { allowed: false } | { allowed: true; succeeded: () => Promise<void> };

/**
 * Counts a sign-in attempt before its password is checked. Past an account's free attempts, its
 * gate lets one attempt through per delay (1 s, 2 s, … LOGIN_MAX_DELAY_SECONDS) from all unknown
 * IPs together; the rest are refused at once. So a stranger closes the door for at most
 * LOGIN_MAX_DELAY_SECONDS at a time (the owner may have to wait that long while under attack),
 * and an IP the account signed in from before (a known pair) is not gated at all.
 */
export async function beginLoginAttempt(email: string, ip: string): Promise<LoginAttempt> {
  const key = rateLimitKey(ip);
  const pair = pairKey(email, key);
  const consumed = await Promise.allSettled([perPair.consume(pair), perIp.consume(key)]);
  if (refusedByLimit(consumed)) return { allowed: false };
  // This pair's attempts in the window, this one included; each also counted on the IP and the account.
  const pairAttempts = (consumed[0] as PromiseFulfilledResult<RateLimiterRes>).value.consumedPoints;
  const known = await isKnownPair(pair);
  if (!known && !(await passGate(email))) {
    // Nothing was checked: the owner waiting out a gate does not use up their own pair.
    await perPair.reward(pair, 1);
    return { allowed: false };
  }
  return {
    allowed: true,
    // The right password vouches for this pair's earlier attempts (the owner's typos): they are
    // given back everywhere, and the pair skips the account's gate from now on. Other pairs'
    // failures on the account or the IP stay counted.
    succeeded: async () => {
      await Promise.all([
        perPair.delete(pair),
        perIp.reward(key, pairAttempts),
        known || giveBackGate(email, pairAttempts),
        rememberPair(pair),
      ]);
    },
  };
}

export type PasswordCheck = { allowed: false } | { allowed: true; succeeded: () => Promise<void> };

/** Counts a check of a signed-in user's current password (account page) before it is made. */
export async function beginPasswordCheck(userId: string): Promise<PasswordCheck> {
  if (refusedByLimit(await Promise.allSettled([passwordChecks.consume(userId)]))) return { allowed: false };
  return { allowed: true, succeeded: async () => void (await passwordChecks.delete(userId)) };
}
