import { platformDefaults } from "@/env";
import { json, withAuth } from "@/server/http";

/** The platform's training defaults (DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE), for the submit form: unset ones are absent. */
export const GET = withAuth(async () => json({ defaults: platformDefaults() }));
