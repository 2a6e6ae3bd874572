import type { Permission } from "@wyolo/contracts";
import type { World } from "../api-world";
import type { HttpMethod } from "../api-world";
import type { TestTokenOptions } from "../tokens-helper";

/** A call of the OpenAPI answers test (openapi-answers.integration.test.ts). */
export type AnswerCall = {
  as?: keyof World["actors"] | null;
  /** Call with an API token of the actor (these options) instead of the session cookie. */
  token?: TestTokenOptions;
  params?: Record<string, string>;
  body?: unknown;
  query?: string;
  yaml?: string;
};
export type Prepare = (w: World) => AnswerCall | Promise<AnswerCall>;
/** "GET projects/[projectId]/leaderboard" → a call that succeeds. */
export type SuccessEntries = Record<string, Prepare>;

/** Who may call a route (role-matrix.integration.test.ts). */
export type Access = (
  | { kind: "public" }
  | { kind: "signedIn" }
  | { kind: "platformAdmin" }
  | { kind: "team"; permission: Permission }
  | { kind: "unknownPath" }
) & { sessionOnly?: true };
export type MatrixActor = { key: string; id: string | null; email: string | null; cookie: string | null };
export type Prepared = { params: Record<string, string>; body?: unknown; query?: string };
export type Case = { access: Access; prepare: (w: World, actor: MatrixActor) => Prepared | Promise<Prepared> };
export type MatrixEntries = Record<string, Partial<Record<HttpMethod, Case>>>;
