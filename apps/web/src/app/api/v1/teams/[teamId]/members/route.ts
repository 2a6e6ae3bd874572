import { json, withAuth } from "@/server/http";
import { listMembers } from "@/server/members/list-members";

export const GET = withAuth<{ teamId: string }>(async ({ user, params }) => json({ members: await listMembers(user, params.teamId) }));
