import "server-only";

// The hashing itself lives in @wyolo/db/password, shared with the seed script.
export { hashPassword, verifyPassword } from "@wyolo/db/password";
