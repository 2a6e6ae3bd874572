"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { clsx } from "clsx";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { TOKEN_DEFAULT_DAYS, TOKEN_SCOPES, type ApiTokenSummary, type CreateTokenInput, type TokenScope } from "@wyolo/contracts";
import { ConfirmDialog, FormDialog } from "@/components/dialog";
import { Button, Card, EmptyState, Field, Input, PageHeader, RoleBadge, Select } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { timeAgo } from "@/lib/format";

const SCOPE_HINTS: Record<TokenScope, string> = {
  read: "See teams, projects, jobs, sweeps, logs and artifacts",
  "jobs:write": "Submit, retry and cancel jobs; export models",
  "sweeps:write": "Start, extend and cancel sweeps",
  "models:write": "Set aliases in the model registry",
  "datasets:write": "Upload datasets and make versions",
  admin: "Manage projects, members and team settings",
};

type Mode = { kind: "personal"; teams: { slug: string; name: string }[] } | { kind: "team"; teamId: string; teamName: string };
type Values = { name: string; scopes: TokenScope[]; expiry: string; expiresAt: string; team: string; role: "ADMIN" | "MEMBER" | "VIEWER" };

const endpointOf = (mode: Mode) => (mode.kind === "personal" ? "/api/v1/account/tokens" : `/api/v1/teams/${mode.teamId}/tokens`);

/** The list, create dialog and show-once box of personal tokens (Account → Tokens) and of a team's service tokens. */
export function TokensView({ mode }: { mode: Mode }) {
  const queryClient = useQueryClient();
  const endpoint = endpointOf(mode);
  const key = ["tokens", endpoint];
  const tokens = useQuery({ queryKey: key, queryFn: () => api<{ tokens: ApiTokenSummary[] }>(endpoint).then((r) => r.tokens) });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ token: string; summary: ApiTokenSummary } | null>(null);
  const [revoking, setRevoking] = useState<ApiTokenSummary | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });

  const revoke = useMutation({
    mutationFn: (id: string) => api(`${endpoint}/${id}`, { method: "DELETE" }),
    onSuccess: () => {
      toast.success("Token revoked");
      setRevoking(null);
      void refresh();
    },
    onError: (err) => reportError(err),
  });

  const personal = mode.kind === "personal";
  return (
    <>
      <PageHeader
        title={personal ? "API tokens" : "Service tokens"}
        subtitle={
          personal
            ? "For scripts, CI and the wyolo CLI: a token does what you can do, narrowed by its scopes (and team)."
            : `Tokens that act as their own member of ${mode.teamName}, with the role you give them; they keep working when people leave.`
        }
        actions={<Button onClick={() => setCreating(true)}>New token</Button>}
      />
      {created && <ShowOnce token={created.token} name={created.summary.name} onDone={() => setCreated(null)} />}
      {tokens.isPending ? (
        <p className="text-sm text-zinc-500">Loading…</p>
      ) : tokens.isError ? (
        <p role="alert" className="text-sm text-red-600">
          {tokens.error.message}
        </p>
      ) : tokens.data.length === 0 ? (
        <EmptyState title="No tokens yet">Create one to call the API with `Authorization: Bearer wyolo_…`.</EmptyState>
      ) : (
        <TokenTable tokens={tokens.data} personal={personal} onRevoke={setRevoking} />
      )}
      <CreateDialog
        open={creating}
        mode={mode}
        onClose={() => setCreating(false)}
        onCreated={(result) => {
          setCreating(false);
          setCreated(result);
          void refresh();
        }}
      />
      <ConfirmDialog
        open={!!revoking}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke"
        busy={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onClose={() => setRevoking(null)}
      >
        Scripts using it get “This token has been revoked” from now on{personal ? "" : ", and its service account leaves the team"}.
      </ConfirmDialog>
    </>
  );
}

function status(t: ApiTokenSummary): { label: string; tone: string } {
  if (t.revokedAt) return { label: "Revoked", tone: "text-zinc-500" };
  if (Date.parse(t.expiresAt) <= Date.now()) return { label: "Expired", tone: "text-amber-600 dark:text-amber-400" };
  return { label: "Active", tone: "text-emerald-700 dark:text-emerald-400" };
}

function TokenTable({
  tokens,
  personal,
  onRevoke,
}: {
  tokens: ApiTokenSummary[];
  personal: boolean;
  onRevoke: (t: ApiTokenSummary) => void;
}) {
  return (
    <Card className="overflow-x-auto p-0">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Tokens</caption>
        <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
          <tr>
            <th scope="col" className="px-4 py-3">
              Name
            </th>
            <th scope="col" className="px-4 py-3">
              Scopes
            </th>
            <th scope="col" className="px-4 py-3">
              {personal ? "Team" : "Role"}
            </th>
            <th scope="col" className="px-4 py-3">
              Expires
            </th>
            <th scope="col" className="px-4 py-3">
              Last used
            </th>
            <th scope="col" className="px-4 py-3">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {tokens.map((t) => {
            const s = status(t);
            return (
              <tr key={t.id} className={clsx(t.revokedAt && "opacity-60")} data-testid="token-row">
                <td className="px-4 py-3">
                  <div className="font-medium text-zinc-900 dark:text-zinc-100">{t.name}</div>
                  <code className="text-xs text-zinc-500">{t.prefix}…</code> <span className={clsx("text-xs", s.tone)}>{s.label}</span>
                </td>
                <td className="px-4 py-3">
                  <div className="flex flex-wrap gap-1">
                    {t.scopes.map((scope) => (
                      <span key={scope} className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs dark:bg-zinc-800">
                        {scope}
                      </span>
                    ))}
                  </div>
                </td>
                <td className="px-4 py-3">{personal ? (t.team?.name ?? "All your teams") : t.role ? <RoleBadge role={t.role} /> : "—"}</td>
                <td className="whitespace-nowrap px-4 py-3">{new Date(t.expiresAt).toLocaleDateString()}</td>
                <td className="px-4 py-3">
                  {t.lastUsedAt ? (
                    <>
                      <div className="whitespace-nowrap">{timeAgo(t.lastUsedAt)}</div>
                      <div className="font-mono text-xs text-zinc-500">{t.lastUsedIp}</div>
                    </>
                  ) : (
                    <span className="text-zinc-500">Never</span>
                  )}
                </td>
                <td className="px-4 py-3 text-right">
                  {!t.revokedAt && (
                    <Button variant="secondary" onClick={() => onRevoke(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
}

/** The token text, once: it is not stored anywhere it could be read again. */
function ShowOnce({ token, name, onDone }: { token: string; name: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token);
      setCopied(true);
      toast.success("Token copied");
    } catch {
      toast.error("Could not copy: select the token and copy it yourself");
    }
  };
  return (
    <Card className="mb-6 border-emerald-300 bg-emerald-50 dark:border-emerald-800 dark:bg-emerald-950/40">
      <h2 className="font-semibold text-zinc-900 dark:text-zinc-50">Your new token “{name}”</h2>
      <p className="mt-1 text-sm text-zinc-700 dark:text-zinc-300">Copy it now: you will not be able to see it again.</p>
      <div className="mt-3 flex flex-col gap-2 sm:flex-row">
        <code
          data-testid="new-token"
          className="min-w-0 flex-1 break-all rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          {token}
        </code>
        <div className="flex gap-2">
          <Button onClick={copy}>{copied ? "Copied" : "Copy"}</Button>
          <Button variant="secondary" onClick={onDone}>
            Done
          </Button>
        </div>
      </div>
    </Card>
  );
}

const EXPIRY_CHOICES = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "date", label: "On a date…" },
];

function toInput(v: Values, mode: Mode): CreateTokenInput {
  return {
    name: v.name,
    // react-hook-form gives `false` for a checkbox group with nothing checked.
    scopes: Array.isArray(v.scopes) ? v.scopes : [],
    ...(v.expiry === "date" ? { expiresAt: new Date(`${v.expiresAt}T23:59:59`) } : { expiresInDays: Number(v.expiry) }),
    ...(mode.kind === "personal" ? (v.team ? { team: v.team } : {}) : { role: v.role }),
  };
}

function CreateDialog({
  open,
  mode,
  onClose,
  onCreated,
}: {
  open: boolean;
  mode: Mode;
  onClose: () => void;
  onCreated: (r: { token: string; summary: ApiTokenSummary }) => void;
}) {
  const defaults: Values = {
    name: "",
    scopes: ["read", "jobs:write"],
    expiry: String(TOKEN_DEFAULT_DAYS),
    expiresAt: "",
    team: "",
    role: "MEMBER",
  };
  const form = useForm<Values>({ defaultValues: defaults });
  const create = useMutation({
    mutationFn: (v: Values) => api<{ token: string; summary: ApiTokenSummary }>(endpointOf(mode), { body: toInput(v, mode) }),
    onSuccess: (result) => {
      form.reset(defaults);
      onCreated(result);
    },
    onError: (err) =>
      reportError(err, (field, error) => form.setError(field === "expiresInDays" ? "expiry" : (field as keyof Values), error)),
  });
  const { errors } = form.formState;
  const expiry = form.watch("expiry");
  const maxDate = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  const minDate = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title={mode.kind === "personal" ? "New API token" : "New service token"}
      onSubmit={form.handleSubmit((v) => create.mutate(v))}
      submitLabel="Create token"
      busy={create.isPending}
    >
      <Field id="token-name" label="Name" error={errors.name?.message} hint="What it is for, e.g. “GitHub Actions”">
        <Input id="token-name" aria-invalid={!!errors.name} {...form.register("name")} />
      </Field>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Scopes</legend>
        {TOKEN_SCOPES.map((scope) => (
          <div key={scope} className="flex items-start gap-2 text-sm">
            <input
              id={`scope-${scope}`}
              type="checkbox"
              value={scope}
              className="mt-1"
              aria-describedby={`scope-${scope}-hint`}
              {...form.register("scopes")}
            />
            <div>
              <label htmlFor={`scope-${scope}`} className="font-mono">
                {scope}
              </label>
              <p id={`scope-${scope}-hint`} className="text-xs text-zinc-500">
                {SCOPE_HINTS[scope]}
              </p>
            </div>
          </div>
        ))}
        {errors.scopes && (
          <p role="alert" className="text-xs text-red-600 dark:text-red-400">
            {errors.scopes.message}
          </p>
        )}
      </fieldset>
      <Field id="token-expiry" label="Expires" error={errors.expiry?.message}>
        <Select id="token-expiry" {...form.register("expiry")}>
          {EXPIRY_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </Select>
      </Field>
      {expiry === "date" && (
        <Field id="token-expires-at" label="Expiry date" error={errors.expiresAt?.message} hint="At most a year from now">
          <Input
            id="token-expires-at"
            type="date"
            min={minDate}
            max={maxDate}
            aria-invalid={!!errors.expiresAt}
            {...form.register("expiresAt")}
          />
        </Field>
      )}
      {mode.kind === "personal" ? (
        <Field id="token-team" label="Team" error={errors.team?.message} hint="Narrow the token to one team, or let it reach all of yours">
          <Select id="token-team" {...form.register("team")}>
            <option value="">All my teams</option>
            {mode.teams.map((t) => (
              <option key={t.slug} value={t.slug}>
                {t.name}
              </option>
            ))}
          </Select>
        </Field>
      ) : (
        <Field id="token-role" label="Role in the team" error={errors.role?.message}>
          <Select id="token-role" {...form.register("role")}>
            <option value="VIEWER">Viewer</option>
            <option value="MEMBER">Member</option>
            <option value="ADMIN">Admin</option>
          </Select>
        </Field>
      )}
    </FormDialog>
  );
}
