import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import {
  jobRoom,
  sweepRoom,
  datasetRoom,
  projectRoom,
  subscribeSchema,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SubscribeAck,
} from "@wyolo/contracts";
import { env } from "@/env";
import { sessionFromCredentials, type Credentials, type SessionUser } from "@/server/auth/session";
import { clientIp } from "@/server/request-ip";
import { sessionRoom, userRoom } from "@/server/realtime/rooms";
import { projectAccess } from "@/server/access";
import { jobAccess } from "@/server/jobs/job-access";
import { sweepAccess } from "@/server/sweeps/sweep-access";
import { datasetAccess } from "@/server/datasets/dataset-access";
import { logger } from "@/server/logger";
import { AppError, isRedisDown } from "@/server/errors";
import { isDatabaseUnavailable } from "@/server/db-errors";

type SocketData = { user: SessionUser; sessionId: string | null; expiresAt: number | null };

// setTimeout's longest delay (~24.8 days); a session may last up to 90.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Browsers always send Origin on a WebSocket handshake: one from another site is refused before
 * the cookie is read (cross-site WebSocket hijacking). Non-browser clients send none.
 */
export function handshakeOriginAllowed(origin: string | undefined, publicUrl: string): boolean {
  return origin === undefined || origin === new URL(publicUrl).origin;
}

type Handshake = { headers: Record<string, string | string[] | undefined>; auth: Record<string, unknown> };

/**
 * What a socket authenticates with: an API token from `auth: { token }` or an Authorization
 * header (a token wins over the cookie, as on the API), else the session cookie.
 */
export function handshakeCredentials(handshake: Handshake): Credentials {
  const { headers, auth } = handshake;
  const header = typeof headers.authorization === "string" ? headers.authorization : null;
  const token = typeof auth?.token === "string" ? auth.token : null;
  return {
    authorization: token !== null ? `Bearer ${token}` : header,
    cookie: typeof headers.cookie === "string" ? headers.cookie : null,
    ip: clientIp(headers),
  };
}

/**
 * socket.io on the web app's own port. The connection is authenticated with the next-auth
 * session cookie or an API token (then every room check applies its grant); joining a project or job room needs read permission on its project, checked
 * against the database at every subscribe. Workers and API handlers publish through the Redis
 * emitter; the Redis adapter fans events out to every web instance. Every socket is also in
 * the rooms of its user and its session (for a token: `token:<id>`), through which sign-out, a
 * revoked token, a disabled account, a removed member, a role or password change disconnect it
 * on whichever process holds it.
 */
export function attachRealtime(httpServer: HttpServer, redisUrl: string) {
  const pub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const sub = pub.duplicate();
  for (const client of [pub, sub])
    client.on("error", (err: Error) => logger.warn({ err: { message: err.message } }, "realtime redis error"));

  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(httpServer, {
    path: "/socket.io",
    serveClient: false,
    connectionStateRecovery: undefined,
    allowRequest: (req, callback) => {
      if (handshakeOriginAllowed(req.headers.origin, env.NEXTAUTH_URL)) return callback(null, true);
      logger.warn({ origin: req.headers.origin }, "socket handshake from a foreign origin refused");
      callback("origin not allowed", false);
    },
  });
  io.adapter(createAdapter(pub, sub));
  // What was published while this process was cut off from Redis is lost, disconnects included
  // (a removed member's socket would keep its rooms). After a reconnect every local socket is
  // disconnected: clients rejoin through fresh permission checks and refetch what they missed.
  let subscribedBefore = false;
  sub.on("ready", () => {
    if (subscribedBefore) {
      logger.info("realtime redis back: local sockets reconnect");
      io.local.disconnectSockets(true);
    }
    subscribedBefore = true;
  });

  io.use(async (socket, next) => {
    try {
      const session = await sessionFromCredentials(handshakeCredentials(socket.handshake));
      if (!session) return next(new Error("unauthorized"));
      socket.data = { user: session.user, sessionId: session.sessionId, expiresAt: session.expiresAt };
      next();
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHENTICATED") return next(new Error(err.message));
      logger.error({ err }, "socket auth failed");
      next(new Error("unavailable"));
    }
  });

  io.on("connection", (socket) => {
    const { user, sessionId, expiresAt } = socket.data;
    void socket.join(sessionId ? [userRoom(user.id), sessionRoom(sessionId)] : [userRoom(user.id)]);
    // The socket ends with its token, as requests with that cookie would.
    if (expiresAt !== null) {
      const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(expiresAt * 1000 - Date.now(), 0), MAX_TIMER_MS));
      socket.on("disconnect", () => clearTimeout(expiry));
    }
    socket.on("subscribe", async (raw, ack) => {
      const reply = (res: SubscribeAck) => typeof ack === "function" && ack(res);
      const parsed = subscribeSchema.safeParse(raw);
      if (!parsed.success) return reply({ ok: false, error: "Bad request" });
      try {
        // Re-read the user: a disabled account, a changed password or a revoked token ends live access too.
        const user = await sessionFromCredentials(handshakeCredentials(socket.handshake))
          .then((session) => session?.user ?? null)
          .catch((err: unknown) => {
            if (err instanceof AppError && err.code === "UNAUTHENTICATED") return null;
            throw err;
          });
        if (!user) {
          reply({ ok: false, error: "Sign in first" });
          return void socket.disconnect(true);
        }
        if ("projectId" in parsed.data) {
          const { project } = await projectAccess(user, { id: parsed.data.projectId }, "job.read");
          await socket.join(projectRoom(project.id));
        } else if ("jobId" in parsed.data) {
          const { job } = await jobAccess(user, parsed.data.jobId, "job.read");
          await socket.join(jobRoom(job.id));
        } else if ("sweepId" in parsed.data) {
          const { sweep } = await sweepAccess(user, parsed.data.sweepId, "job.read");
          await socket.join(sweepRoom(sweep.id));
        } else {
          const { dataset } = await datasetAccess(user, parsed.data.datasetId, "dataset.read");
          await socket.join(datasetRoom(dataset.id));
        }
        reply({ ok: true });
      } catch (err) {
        if (isDatabaseUnavailable(err) || isRedisDown(err)) {
          // An outage is not "not found": drop the socket, so the client reconnects with backoff
          // and subscribes again once the service is back.
          reply({ ok: false, error: "Unavailable" });
          return void socket.disconnect(true);
        }
        // Another team's project and an unknown id look the same.
        reply({ ok: false, error: "Not found" });
      }
    });
    socket.on("unsubscribe", (raw) => {
      const parsed = subscribeSchema.safeParse(raw);
      if (!parsed.success) return;
      const req = parsed.data;
      void socket.leave(
        "projectId" in req
          ? projectRoom(req.projectId)
          : "jobId" in req
            ? jobRoom(req.jobId)
            : "sweepId" in req
              ? sweepRoom(req.sweepId)
              : datasetRoom(req.datasetId),
      );
    });
  });

  return {
    io,
    async close() {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
