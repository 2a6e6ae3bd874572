import "server-only";

// Rooms the server puts every socket in at connect, so that ending a session or a user's access
// can reach their sockets on every web process. Clients cannot subscribe to them.
export const userRoom = (userId: string) => `user:${userId}`;
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
