import { json, withAuth } from "@/server/http";
import { listUsers } from "@/server/users/list-users";

export const GET = withAuth(async ({ user }) => json({ users: await listUsers(user) }));
