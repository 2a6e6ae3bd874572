import "server-only";
import { createHash, randomBytes } from "node:crypto";

export const newInviteToken = () => randomBytes(32).toString("base64url");
/** Only this hash is stored; a database leak does not leak usable invitation links. */
export const hashInviteToken = (token: string) => createHash("sha256").update(token).digest("hex");
