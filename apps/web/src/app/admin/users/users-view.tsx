"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { Button, Card } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

type User = { id: string; email: string; name: string; isPlatformAdmin: boolean; disabled: boolean; _count: { memberships: number } };

export function UsersView({ me }: { me: string }) {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ["admin-users"], queryFn: () => api<{ users: User[] }>("/api/v1/admin/users").then((r) => r.users) });
  const update = useMutation({
    mutationFn: ({ id, disabled }: { id: string; disabled: boolean }) =>
      api(`/api/v1/admin/users/${id}`, { method: "PATCH", body: { disabled } }),
    onSuccess: (_d, v) => {
      toast.success(v.disabled ? "Account disabled" : "Account enabled");
      void queryClient.invalidateQueries({ queryKey: ["admin-users"] });
    },
    onError: (err) => reportError(err),
  });
  return (
    <Card className="overflow-x-auto p-0">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Users</caption>
        <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
          <tr>
            <th scope="col" className="px-4 py-3">
              User
            </th>
            <th scope="col" className="px-4 py-3">
              Teams
            </th>
            <th scope="col" className="px-4 py-3">
              Status
            </th>
            <th scope="col" className="px-4 py-3">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <tr key={u.id} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
              <td className="px-4 py-3">
                <p className="font-medium">
                  {u.name}
                  {u.isPlatformAdmin && <span className="ml-2 text-xs text-indigo-600">admin</span>}
                </p>
                <p className="text-xs text-zinc-500">{u.email}</p>
              </td>
              <td className="px-4 py-3">{u._count.memberships}</td>
              <td className="px-4 py-3">{u.disabled ? <span className="text-red-600">disabled</span> : "active"}</td>
              <td className="px-4 py-3 text-right">
                {u.id !== me && (
                  <Button variant={u.disabled ? "secondary" : "ghost"} onClick={() => update.mutate({ id: u.id, disabled: !u.disabled })}>
                    {u.disabled ? "Enable" : "Disable"}
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {users.isPending && <p className="p-4 text-sm text-zinc-500">Loading…</p>}
    </Card>
  );
}
