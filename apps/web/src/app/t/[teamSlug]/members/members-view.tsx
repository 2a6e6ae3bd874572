"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { canAssignRole, createInvitationSchema, ROLES, type CreateInvitationInput, type Role } from "@wyolo/contracts";
import { Button, Card, Field, Input, PageHeader, RoleBadge, Select } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

type Member = { userId: string; email: string; name: string; role: Role; disabled: boolean; joinedAt: string };
type Invitation = { id: string; email: string; role: Role; expiresAt: string; invitedBy: { name: string } };
type Perms = { invite: boolean; update: boolean; remove: boolean; transfer: boolean; deleteTeam: boolean };

export function MembersView({
  team,
  me,
  role,
  isMember,
  perms,
}: {
  team: { id: string; name: string; slug: string };
  me: string;
  role: Role;
  isMember: boolean;
  perms: Perms;
}) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const membersKey = ["members", team.id];
  const members = useQuery({
    queryKey: membersKey,
    queryFn: () => api<{ members: Member[] }>(`/api/v1/teams/${team.id}/members`).then((r) => r.members),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: membersKey });

  const changeRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      api(`/api/v1/teams/${team.id}/members/${userId}`, { method: "PATCH", body: { role } }),
    onSuccess: () => {
      toast.success("Role changed");
      void refresh();
    },
    onError: (err) => {
      reportError(err);
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api(`/api/v1/teams/${team.id}/members/${userId}`, { method: "DELETE" }),
    onSuccess: (_data, userId) => {
      if (userId === me) {
        toast.success(`You left ${team.name}`);
        router.push("/");
        router.refresh();
        return;
      }
      toast.success("Member removed");
      void refresh();
    },
    onError: (err) => reportError(err),
  });

  return (
    <>
      <PageHeader title="Members" subtitle={`People in ${team.name} and what they can do`} />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          <Card className="overflow-x-auto p-0">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Team members</caption>
              <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
                <tr>
                  <th scope="col" className="px-4 py-3">
                    Name
                  </th>
                  <th scope="col" className="px-4 py-3">
                    Role
                  </th>
                  <th scope="col" className="px-4 py-3">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.data?.map((m) => {
                  const editable = perms.update && m.userId !== me && ROLES.some((r) => r !== m.role && canAssignRole(role, m.role, r));
                  return (
                    <tr key={m.userId} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
                      <td className="px-4 py-3">
                        <p className="font-medium">
                          {m.name} {m.userId === me && <span className="text-xs text-zinc-500">(you)</span>}
                          {m.disabled && <span className="ml-2 text-xs text-red-600">disabled</span>}
                        </p>
                        <p className="text-xs text-zinc-500">{m.email}</p>
                      </td>
                      <td className="px-4 py-3">
                        {editable ? (
                          <>
                            <label htmlFor={`role-${m.userId}`} className="sr-only">
                              Role of {m.name}
                            </label>
                            <Select
                              id={`role-${m.userId}`}
                              value={m.role}
                              className="w-32"
                              onChange={(e) => changeRole.mutate({ userId: m.userId, role: e.target.value as Role })}
                            >
                              {ROLES.filter((r) => r === m.role || canAssignRole(role, m.role, r)).map((r) => (
                                <option key={r} value={r}>
                                  {r}
                                </option>
                              ))}
                            </Select>
                          </>
                        ) : (
                          <RoleBadge role={m.role} />
                        )}
                      </td>
                      <td className="px-4 py-3 text-right">
                        {m.userId === me && isMember ? (
                          <Button variant="ghost" onClick={() => confirm(`Leave ${team.name}?`) && remove.mutate(m.userId)}>
                            Leave
                          </Button>
                        ) : perms.remove && (m.role !== "OWNER" || role === "OWNER") ? (
                          <Button
                            variant="ghost"
                            aria-label={`Remove ${m.name}`}
                            onClick={() => confirm(`Remove ${m.name} from ${team.name}?`) && remove.mutate(m.userId)}
                          >
                            Remove
                          </Button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {members.isPending && <p className="p-4 text-sm text-zinc-500">Loading members…</p>}
          </Card>
          {perms.transfer && members.data && <OwnerZone team={team} me={me} members={members.data} />}
        </div>
        {perms.invite && <InvitePanel teamId={team.id} role={role} />}
      </div>
    </>
  );
}

function InvitePanel({ teamId, role }: { teamId: string; role: Role }) {
  const queryClient = useQueryClient();
  const [link, setLink] = useState<string | null>(null);
  const invitations = useQuery({
    queryKey: ["invitations", teamId],
    queryFn: () => api<{ invitations: Invitation[] }>(`/api/v1/teams/${teamId}/invitations`).then((r) => r.invitations),
  });
  const form = useForm<CreateInvitationInput>({
    resolver: zodResolver(createInvitationSchema),
    defaultValues: { email: "", role: "MEMBER" },
  });
  const invite = useMutation({
    mutationFn: (values: CreateInvitationInput) =>
      api<{ invitation: { url: string; email: string } }>(`/api/v1/teams/${teamId}/invitations`, { body: values }),
    onSuccess: ({ invitation }) => {
      setLink(invitation.url);
      toast.success(`Invitation for ${invitation.email} created`);
      form.reset({ email: "", role: form.getValues("role") });
      void queryClient.invalidateQueries({ queryKey: ["invitations", teamId] });
    },
    onError: (err) => reportError(err, form.setError),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/api/v1/teams/${teamId}/invitations/${id}`, { method: "DELETE" }),
    onSuccess: () => {
      toast.success("Invitation revoked");
      void queryClient.invalidateQueries({ queryKey: ["invitations", teamId] });
    },
    onError: (err) => reportError(err),
  });
  const { errors } = form.formState;
  return (
    <div className="space-y-6">
      <Card>
        <h2 className="mb-4 text-lg font-semibold">Invite someone</h2>
        <form onSubmit={form.handleSubmit((v) => invite.mutate(v))} className="space-y-4" noValidate>
          <Field id="invite-email" label="Email" error={errors.email?.message}>
            <Input id="invite-email" type="email" aria-invalid={!!errors.email} {...form.register("email")} />
          </Field>
          <Field id="invite-role" label="Role" error={errors.role?.message}>
            <Select id="invite-role" {...form.register("role")}>
              {ROLES.filter((r) => canAssignRole(role, null, r)).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" busy={invite.isPending}>
            Create invite link
          </Button>
        </form>
        {link && (
          <div className="mt-4 space-y-2 rounded-md bg-indigo-50 p-3 dark:bg-indigo-950/40">
            <p className="text-xs text-zinc-600 dark:text-zinc-300">Send this link; it works once and is shown only now.</p>
            <label htmlFor="invite-link" className="sr-only">
              Invitation link
            </label>
            <Input id="invite-link" readOnly value={link} onFocus={(e) => e.target.select()} className="font-mono text-xs" />
            <Button
              variant="secondary"
              onClick={() =>
                navigator.clipboard.writeText(link).then(
                  () => toast.success("Link copied"),
                  () => toast.error("Copy failed; select the link and copy it"),
                )
              }
            >
              Copy link
            </Button>
          </div>
        )}
      </Card>
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Pending invitations</h2>
        {invitations.data?.length ? (
          <ul className="space-y-2 text-sm" aria-label="Pending invitations">
            {invitations.data.map((inv) => (
              <li key={inv.id} className="flex items-center justify-between gap-2">
                <span>
                  {inv.email} <RoleBadge role={inv.role} />
                  <span className="block text-xs text-zinc-500">expires {new Date(inv.expiresAt).toLocaleDateString()}</span>
                </span>
                <Button variant="ghost" aria-label={`Revoke invitation for ${inv.email}`} onClick={() => revoke.mutate(inv.id)}>
                  Revoke
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-500">None</p>
        )}
      </Card>
    </div>
  );
}

function OwnerZone({ team, me, members }: { team: { id: string; name: string; slug: string }; me: string; members: Member[] }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const candidates = members.filter((m) => m.userId !== me);
  const [target, setTarget] = useState("");
  const [confirmSlug, setConfirmSlug] = useState("");
  const transfer = useMutation({
    mutationFn: (userId: string) => api(`/api/v1/teams/${team.id}/transfer`, { body: { userId } }),
    onSuccess: () => {
      toast.success("Ownership transferred; you are now an admin");
      void queryClient.invalidateQueries({ queryKey: ["members", team.id] });
      router.refresh();
    },
    onError: (err) => reportError(err),
  });
  const del = useMutation({
    mutationFn: () => api(`/api/v1/teams/${team.id}`, { method: "DELETE" }),
    onSuccess: () => {
      toast.success(`Team ${team.name} deleted`);
      router.push("/");
      router.refresh();
    },
    onError: (err) => reportError(err),
  });
  return (
    <Card className="mt-6 border-red-200 dark:border-red-900">
      <h2 className="mb-4 text-lg font-semibold text-red-700 dark:text-red-400">Owner zone</h2>
      <div className="flex flex-wrap items-end gap-2">
        <Field id="transfer-to" label="Transfer ownership to">
          <Select id="transfer-to" value={target} onChange={(e) => setTarget(e.target.value)} className="w-60">
            <option value="">Choose a member…</option>
            {candidates.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name} ({m.email})
              </option>
            ))}
          </Select>
        </Field>
        <Button variant="secondary" disabled={!target} busy={transfer.isPending} onClick={() => transfer.mutate(target)}>
          Transfer
        </Button>
      </div>
      <div className="mt-6 flex flex-wrap items-end gap-2">
        <Field id="delete-confirm" label={`Type ${team.slug} to delete the team and all its projects`}>
          <Input id="delete-confirm" value={confirmSlug} onChange={(e) => setConfirmSlug(e.target.value)} className="w-60" />
        </Field>
        <Button variant="danger" disabled={confirmSlug !== team.slug} busy={del.isPending} onClick={() => del.mutate()}>
          Delete team
        </Button>
      </div>
    </Card>
  );
}
