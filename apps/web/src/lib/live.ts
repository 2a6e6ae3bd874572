"use client";
import { useEffect, useRef } from "react";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeRequest } from "@wyolo/contracts";

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: LiveSocket | null = null;

// A connection that ends within this of starting counts as a failed attempt: the backoff grows.
const STABLE_MS = 10_000;
const MAX_RETRY_MS = 30_000;

/**
 * The server disconnects a user's sockets when their access changes (role, membership,
 * password, sign-out), and socket.io does not reconnect those by itself. This reconnects with
 * backoff, which re-runs every subscribe and so checks each permission again. A session the
 * server refuses ("unauthorized") stops it: the next API call shows the sign-in page.
 */
export function reconnectAfterServerDisconnects(s: LiveSocket, firstRetryMs = 1000) {
  let failures = 0;
  let connectedAt = 0;
  const retry = () => {
    const wait = Math.min(MAX_RETRY_MS, firstRetryMs * 2 ** failures++) * (0.75 + Math.random() / 2);
    setTimeout(() => !s.active && s.connect(), wait);
  };
  s.on("connect", () => void (connectedAt = Date.now()));
  s.on("disconnect", (reason) => {
    if (reason !== "io server disconnect") return; // socket.io reconnects after the others itself
    if (Date.now() - connectedAt >= STABLE_MS) failures = 0;
    retry();
  });
  s.on("connect_error", (err) => {
    if (s.active || err.message === "unauthorized") return;
    retry();
  });
}

function getSocket(): LiveSocket {
  if (socket) return socket;
  // WebSocket only: with several web processes, long-polling would need sticky sessions.
  socket = io({ path: "/socket.io", transports: ["websocket"], withCredentials: true });
  reconnectAfterServerDisconnects(socket);
  return socket;
}

type Handlers = Partial<{ [E in keyof ServerToClientEvents]: ServerToClientEvents[E] }>;

/**
 * Joins a live room while the component is mounted. `onResync` runs after every (re)join:
 * the page refetches from the API, so events missed while offline are never lost — events
 * only patch state.
 */
export function useLive(room: SubscribeRequest | null, handlers: Handlers, onResync: () => void) {
  const ref = useRef({ handlers, onResync });
  useEffect(() => {
    ref.current = { handlers, onResync };
  });
  const key = room ? JSON.stringify(room) : null;
  useEffect(() => {
    if (!key) return;
    const req = JSON.parse(key) as SubscribeRequest;
    const s = getSocket();
    // A socket stopped by a refused session is tried again when a live page mounts (after a
    // new sign-in in this tab), never in a loop.
    if (!s.active) s.connect();
    // Refetch once the room is joined (also the first time): anything that happened between
    // the page's first fetch and the join is then not lost either.
    const join = () => s.emit("subscribe", req, (ack) => ack.ok && ref.current.onResync());
    const listeners = (Object.keys(ref.current.handlers) as (keyof ServerToClientEvents)[]).map((event) => {
      const fn = (...args: unknown[]) => (ref.current.handlers[event] as ((...a: unknown[]) => void) | undefined)?.(...args);
      s.on(event, fn as never);
      return [event, fn] as const;
    });
    if (s.connected) join();
    s.on("connect", join);
    return () => {
      s.off("connect", join);
      for (const [event, fn] of listeners) s.off(event, fn as never);
      s.emit("unsubscribe", req);
    };
  }, [key]);
}
