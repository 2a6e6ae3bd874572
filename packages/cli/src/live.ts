import { io, type Socket } from "socket.io-client";

export type Room = { jobId: string } | { sweepId: string };

export type LiveHandlers = {
  /** Subscribed (again, after a reconnect): what happened in between is read from the API. */
  onSubscribed: () => void;
  onEvent: (name: string, payload: unknown) => void;
  /** Live updates cannot be had (refused handshake or subscription): the caller polls instead. */
  onUnavailable: (why: string) => void;
};

/**
 * The web app's socket.io with the API token (in the handshake's `auth` and as a Bearer header),
 * joined to one room. socket.io reconnects by itself after a drop; every (re)connection
 * subscribes again, so a restarted web process loses nothing the API can still tell.
 */
export function connectLive(url: string, token: string, room: Room, handlers: LiveHandlers): { close: () => void } {
  const socket: Socket = io(url, {
    path: "/socket.io",
    transports: ["websocket"],
    auth: { token },
    extraHeaders: { authorization: `Bearer ${token}` },
    reconnectionDelayMax: 5_000,
  });
  let unavailable = false;
  const giveUp = (why: string) => {
    if (unavailable) return;
    unavailable = true;
    handlers.onUnavailable(why);
  };
  socket.on("connect", () => {
    socket.emit("subscribe", room, (res: { ok: boolean; error?: string }) => {
      if (res?.ok) handlers.onSubscribed();
      else giveUp(res?.error ?? "subscription refused");
    });
  });
  // A refusal by the server's auth middleware is final (socket.active turns false); network errors are retried.
  socket.on("connect_error", (err) => {
    if (!socket.active) giveUp(err.message);
  });
  socket.onAny((name: string, payload: unknown) => handlers.onEvent(name, payload));
  return { close: () => void socket.close() };
}
