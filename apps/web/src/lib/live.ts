"use client";
import { useEffect, useRef } from "react";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeRequest } from "@wyolo/contracts";

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: LiveSocket | null = null;

function getSocket(): LiveSocket {
  // WebSocket only: with several web processes, long-polling would need sticky sessions.
  socket ??= io({ path: "/socket.io", transports: ["websocket"], withCredentials: true });
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
