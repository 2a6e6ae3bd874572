import { json, withAuth } from "@/server/http";
import { listWorkers } from "@/server/workers/list-workers";

export const GET = withAuth(async ({ user }) => json({ workers: await listWorkers(user) }));
