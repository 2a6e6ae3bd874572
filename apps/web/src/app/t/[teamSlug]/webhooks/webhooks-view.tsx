"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { clsx } from "clsx";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { toast } from "sonner";
import { createWebhookSchema, WEBHOOK_EVENTS, type CreateWebhookInput } from "@wyolo/contracts";
import { Button, Card, EmptyState, Field, Input, PageHeader, Select } from "@/components/ui";
import { ConfirmDialog, FormDialog } from "@/components/dialog";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { timeAgo } from "@/lib/format";

type Status = "PENDING" | "SUCCEEDED" | "FAILED";
type Webhook = {
  id: string;
  name: string;
  kind: "GENERIC" | "SLACK";
  url: string;
  events: string[];
  enabled: boolean;
  signed: boolean;
  createdAt: string;
  lastDelivery: { status: Status; createdAt: string; statusCode: number | null } | null;
};
type Delivery = {
  id: string;
  event: string;
  status: Status;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  durationMs: number | null;
  responseSnippet: string | null;
  error: string | null;
  redeliveryOfId: string | null;
  createdAt: string;
  deliveredAt: string | null;
};
type Team = { id: string; name: string; slug: string };

const statusStyle: Record<Status, string> = {
  SUCCEEDED: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300",
  PENDING: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
  FAILED: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
};
const statusLabel: Record<Status, string> = { SUCCEEDED: "delivered", PENDING: "pending", FAILED: "failed" };

function StatusBadge({ status }: { status: Status }) {
  return <span className={clsx("rounded px-2 py-0.5 text-xs font-semibold", statusStyle[status])}>{statusLabel[status]}</span>;
}

export function WebhooksView({ team }: { team: Team }) {
  const queryClient = useQueryClient();
  const key = ["webhooks", team.id];
  const hooks = useQuery({
    queryKey: key,
    queryFn: () => api<{ webhooks: Webhook[] }>(`/api/v1/teams/${team.id}/webhooks`).then((r) => r.webhooks),
    // A last delivery still pending: follow it until it settles.
    refetchInterval: (q) => (q.state.data?.some((h) => h.lastDelivery?.status === "PENDING") ? 2_000 : false),
  });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const current = hooks.data?.find((h) => h.id === selected) ?? hooks.data?.[0];
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });

  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle={`Tell other services when ${team.name}'s jobs, exports and sweeps end: signed JSON, or a Slack message`}
        actions={<Button onClick={() => setCreating(true)}>New webhook</Button>}
      />
      <CreateDialog
        open={creating}
        teamId={team.id}
        onClose={() => setCreating(false)}
        onCreated={(hook, value) => {
          setCreating(false);
          setSelected(hook.id);
          if (value) setSecret({ name: hook.name, value });
          void refresh();
        }}
      />
      {secret && <SecretBox name={secret.name} value={secret.value} onDone={() => setSecret(null)} />}
      {hooks.isPending ? (
        <p className="text-sm text-zinc-500">Loading webhooks…</p>
      ) : !hooks.data?.length ? (
        <EmptyState title="No webhooks yet">
          Add one to post to your CI, a chat bot or Slack when a job succeeds or fails. Deliveries are signed and retried for 24 hours.
        </EmptyState>
      ) : (
        <div className="grid gap-6 lg:grid-cols-3">
          <ul className="space-y-2 lg:col-span-1" aria-label="Webhooks">
            {hooks.data.map((h) => (
              <li key={h.id}>
                <button
                  type="button"
                  onClick={() => setSelected(h.id)}
                  aria-current={current?.id === h.id || undefined}
                  className={clsx(
                    "w-full rounded-lg border p-3 text-left text-sm shadow-sm transition-colors",
                    current?.id === h.id
                      ? "border-indigo-400 bg-indigo-50 dark:border-indigo-500 dark:bg-indigo-950/40"
                      : "border-zinc-200 bg-white hover:bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:bg-zinc-800",
                  )}
                >
                  <span className="flex items-center justify-between gap-2">
                    <span className="truncate font-medium">{h.name}</span>
                    <span className="shrink-0 text-xs text-zinc-500">{h.kind === "SLACK" ? "Slack" : "JSON"}</span>
                  </span>
                  <span className="block truncate font-mono text-xs text-zinc-500">{h.url}</span>
                  <span className="mt-1 flex items-center gap-2 text-xs text-zinc-500">
                    {!h.enabled && <span className="font-semibold text-zinc-600 dark:text-zinc-300">disabled</span>}
                    {h.lastDelivery ? (
                      <>
                        <StatusBadge status={h.lastDelivery.status} /> {timeAgo(h.lastDelivery.createdAt)}
                      </>
                    ) : (
                      "no deliveries yet"
                    )}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <div className="min-w-0 lg:col-span-2">
            {current && (
              <WebhookDetail
                key={current.id}
                hook={current}
                onChanged={refresh}
                onSecret={(value) => setSecret({ name: current.name, value })}
              />
            )}
          </div>
        </div>
      )}
    </>
  );
}

const EVENT_HINTS: Record<string, string> = {
  "model.version_created": "a succeeded job became a new model version",
};

function CreateDialog({
  open,
  teamId,
  onClose,
  onCreated,
}: {
  open: boolean;
  teamId: string;
  onClose: () => void;
  onCreated: (hook: Webhook, secret: string | null) => void;
}) {
  const form = useForm<z.input<typeof createWebhookSchema>, unknown, CreateWebhookInput>({
    resolver: zodResolver(createWebhookSchema),
    defaultValues: { name: "", kind: "GENERIC", url: "", events: ["job.succeeded", "job.failed"], enabled: true },
  });
  const create = useMutation({
    mutationFn: (values: CreateWebhookInput) =>
      api<{ webhook: Webhook; secret: string | null }>(`/api/v1/teams/${teamId}/webhooks`, { body: values }),
    onSuccess: ({ webhook, secret }) => {
      toast.success(`Webhook ${webhook.name} created`);
      form.reset();
      onCreated(webhook, secret);
    },
    onError: (err) => reportError(err, form.setError),
  });
  const { errors } = form.formState;
  const kind = form.watch("kind");
  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title="New webhook"
      onSubmit={form.handleSubmit((v) => create.mutate(v))}
      submitLabel="Create webhook"
      busy={create.isPending}
    >
      <Field id="webhook-name" label="Name" error={errors.name?.message}>
        <Input id="webhook-name" aria-invalid={!!errors.name} placeholder="CI notifications" {...form.register("name")} />
      </Field>
      <Field id="webhook-kind" label="Kind" error={errors.kind?.message}>
        <Select id="webhook-kind" {...form.register("kind")}>
          <option value="GENERIC">JSON (signed with a secret)</option>
          <option value="SLACK">Slack incoming webhook</option>
        </Select>
      </Field>
      <Field
        id="webhook-url"
        label="URL"
        error={errors.url?.message}
        hint={kind === "SLACK" ? "https://hooks.slack.com/services/… (stored encrypted)" : "Receives a POST with a JSON body"}
      >
        <Input id="webhook-url" type="url" aria-invalid={!!errors.url} className="font-mono" {...form.register("url")} />
      </Field>
      <fieldset>
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Events</legend>
        <div className="mt-1 grid gap-1 sm:grid-cols-2">
          {WEBHOOK_EVENTS.map((e) => (
            <label key={e} className="flex items-center gap-2 text-sm">
              <input type="checkbox" value={e} {...form.register("events")} className="size-4 accent-indigo-600" />
              <span className="font-mono text-xs">{e}</span>
              {EVENT_HINTS[e] && <span className="text-xs text-zinc-500">({EVENT_HINTS[e]})</span>}
            </label>
          ))}
        </div>
        {errors.events && (
          <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
            {errors.events.message ?? errors.events.root?.message}
          </p>
        )}
      </fieldset>
    </FormDialog>
  );
}

function SecretBox({ name, value, onDone }: { name: string; value: string; onDone: () => void }) {
  return (
    <Card className="mb-6 border-indigo-300 bg-indigo-50 dark:border-indigo-800 dark:bg-indigo-950/40">
      <h2 className="text-base font-semibold">Signing secret of {name}</h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-300">
        Copy it now: it is shown only once. Your receiver checks the <code className="font-mono">wyolo-signature</code> header with it (see
        docs/webhooks.md).
      </p>
      <div className="mt-3 flex flex-wrap gap-2">
        <label htmlFor="webhook-secret" className="sr-only">
          Signing secret
        </label>
        <Input id="webhook-secret" readOnly value={value} onFocus={(e) => e.target.select()} className="min-w-0 flex-1 font-mono text-xs" />
        <Button
          variant="secondary"
          onClick={() =>
            navigator.clipboard.writeText(value).then(
              () => toast.success("Secret copied"),
              () => toast.error("Copy failed; select the secret and copy it"),
            )
          }
        >
          Copy
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
    </Card>
  );
}

function WebhookDetail({ hook, onChanged, onSecret }: { hook: Webhook; onChanged: () => void; onSecret: (secret: string) => void }) {
  const queryClient = useQueryClient();
  const logKey = ["webhook-deliveries", hook.id];
  const [deleting, setDeleting] = useState(false);
  const deliveries = useQuery({
    queryKey: logKey,
    queryFn: () => api<{ deliveries: Delivery[] }>(`/api/v1/webhooks/${hook.id}/deliveries?limit=50`).then((r) => r.deliveries),
    // While an attempt is pending, follow it.
    refetchInterval: (q) => (q.state.data?.some((d) => d.status === "PENDING") ? 1_500 : false),
  });
  const refreshLog = () => {
    void queryClient.invalidateQueries({ queryKey: logKey });
    onChanged();
  };
  const sendTest = useMutation({
    mutationFn: () => api(`/api/v1/webhooks/${hook.id}/test`, { method: "POST" }),
    onSuccess: () => {
      toast.success("Test event queued");
      refreshLog();
    },
    onError: (err) => reportError(err),
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) => api(`/api/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, { method: "POST" }),
    onSuccess: () => {
      toast.success("Redelivery queued");
      refreshLog();
    },
    onError: (err) => reportError(err),
  });
  const toggle = useMutation({
    mutationFn: () => api(`/api/v1/webhooks/${hook.id}`, { method: "PATCH", body: { enabled: !hook.enabled } }),
    onSuccess: () => {
      toast.success(hook.enabled ? "Webhook disabled" : "Webhook enabled");
      onChanged();
    },
    onError: (err) => reportError(err),
  });
  const rotate = useMutation({
    mutationFn: () => api<{ secret: string }>(`/api/v1/webhooks/${hook.id}/rotate-secret`, { method: "POST" }),
    onSuccess: ({ secret }) => {
      toast.success("New secret: the old one no longer signs");
      onSecret(secret);
    },
    onError: (err) => reportError(err),
  });
  const remove = useMutation({
    mutationFn: () => api(`/api/v1/webhooks/${hook.id}`, { method: "DELETE" }),
    onSuccess: () => {
      toast.success(`Webhook ${hook.name} deleted`);
      setDeleting(false);
      onChanged();
    },
    onError: (err) => reportError(err),
  });

  return (
    <section
      aria-label={`Webhook ${hook.name}`}
      className="rounded-lg border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-zinc-200 p-5 dark:border-zinc-800">
        <div className="min-w-0">
          <h2 className="truncate text-lg font-semibold">{hook.name}</h2>
          <p className="truncate font-mono text-xs text-zinc-500">{hook.url}</p>
          <p className="mt-2 flex flex-wrap gap-1">
            {hook.events.map((e) => (
              <span
                key={e}
                className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
              >
                {e}
              </span>
            ))}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button onClick={() => sendTest.mutate()} busy={sendTest.isPending}>
            Send test
          </Button>
          <Button variant="secondary" onClick={() => toggle.mutate()} busy={toggle.isPending}>
            {hook.enabled ? "Disable" : "Enable"}
          </Button>
          {hook.signed && (
            <Button variant="secondary" onClick={() => rotate.mutate()} busy={rotate.isPending}>
              Rotate secret
            </Button>
          )}
          <Button variant="ghost" onClick={() => setDeleting(true)}>
            Delete
          </Button>
        </div>
      </div>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${hook.name}?`}
        confirmLabel="Delete webhook"
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      >
        Its delivery log goes with it. Deliveries not yet made are dropped.
      </ConfirmDialog>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="px-5 pt-4 text-left text-sm font-semibold">Recent deliveries</caption>
          <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
            <tr>
              <th scope="col" className="px-5 py-2">
                Event
              </th>
              <th scope="col" className="px-3 py-2">
                Status
              </th>
              <th scope="col" className="px-3 py-2">
                Response
              </th>
              <th scope="col" className="hidden px-3 py-2 sm:table-cell">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data?.map((d) => (
              <tr key={d.id} className="border-b border-zinc-100 align-top last:border-0 dark:border-zinc-800">
                <td className="px-5 py-3">
                  <p className="font-mono text-xs">{d.event}</p>
                  <p className="text-xs text-zinc-500">
                    {timeAgo(d.createdAt)}
                    {d.redeliveryOfId && " · redelivery"}
                  </p>
                  <RedeliverButton className="mt-1 sm:hidden" event={d.event} at={d.createdAt} onClick={() => redeliver.mutate(d.id)} />
                </td>
                <td className="px-3 py-3">
                  <StatusBadge status={d.status} />
                  <p className="mt-1 whitespace-nowrap text-xs text-zinc-500">
                    {d.attempts} {d.attempts === 1 ? "attempt" : "attempts"}
                    {d.status === "PENDING" &&
                      d.nextAttemptAt &&
                      d.attempts > 0 &&
                      ` · next ${new Date(d.nextAttemptAt).toLocaleTimeString()}`}
                  </p>
                </td>
                <td className="max-w-xs px-3 py-3">
                  {d.lastStatusCode !== null || d.durationMs !== null ? (
                    <p className="text-xs">
                      {d.lastStatusCode !== null && <span className="font-semibold">HTTP {d.lastStatusCode}</span>}
                      {d.durationMs !== null && <span className="text-zinc-500"> · {d.durationMs} ms</span>}
                    </p>
                  ) : null}
                  {d.error && <p className="break-words text-xs text-red-700 dark:text-red-400">{d.error}</p>}
                  {d.responseSnippet && (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-zinc-500">Response body</summary>
                      <pre className="mt-1 max-h-40 overflow-auto whitespace-pre-wrap break-words rounded bg-zinc-50 p-2 font-mono text-xs dark:bg-zinc-950">
                        {d.responseSnippet}
                      </pre>
                    </details>
                  )}
                </td>
                <td className="hidden px-3 py-3 text-right sm:table-cell">
                  <RedeliverButton event={d.event} at={d.createdAt} onClick={() => redeliver.mutate(d.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.isPending && <p className="p-5 text-sm text-zinc-500">Loading deliveries…</p>}
        {deliveries.data?.length === 0 && <p className="p-5 text-sm text-zinc-500">No deliveries yet. Send a test to see one here.</p>}
      </div>
    </section>
  );
}

function RedeliverButton({ event, at, onClick, className }: { event: string; at: string; onClick: () => void; className?: string }) {
  return (
    <Button variant="ghost" className={className} aria-label={`Redeliver ${event} of ${timeAgo(at)}`} onClick={onClick}>
      Redeliver
    </Button>
  );
}
