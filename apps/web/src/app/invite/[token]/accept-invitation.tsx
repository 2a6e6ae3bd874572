"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { signIn, signOut } from "next-auth/react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import { passwordSchema, personNameSchema, type Role } from "@wyolo/contracts";
import { Button, Card, Field, Input, RoleBadge } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

type Preview = { teamName: string; teamSlug: string; email: string; role: Role; expiresAt: string; hasAccount: boolean };
type Accepted = { membership: { teamSlug: string; teamName: string } };

const signUpSchema = z
  .object({ name: personNameSchema, password: passwordSchema, confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "Passwords do not match" });
type SignUp = z.infer<typeof signUpSchema>;

export function AcceptInvitation({ token, user }: { token: string; user: { email: string; name: string } | null }) {
  const router = useRouter();
  const preview = useQuery({
    queryKey: ["invitation", token],
    queryFn: () => api<{ invitation: Preview }>("/api/v1/invitations/preview", { body: { token } }).then((r) => r.invitation),
    retry: false,
  });
  const form = useForm<SignUp>({ resolver: zodResolver(signUpSchema), defaultValues: { name: "", password: "", confirm: "" } });
  const accept = useMutation({
    mutationFn: (body: { token: string; name?: string; password?: string }) => api<Accepted>("/api/v1/invitations/accept", { body }),
    onSuccess: async ({ membership }, body) => {
      if (body.password && preview.data) {
        const res = await signIn("credentials", { email: preview.data.email, password: body.password, redirect: false });
        if (!res || res.error) {
          toast.error("Account created; sign in to continue");
          router.push("/signin");
          return;
        }
      }
      toast.success(`Welcome to ${membership.teamName}`);
      router.push(`/t/${membership.teamSlug}`);
      router.refresh();
    },
    onError: (err) => reportError(err, form.setError),
  });

  if (preview.isPending)
    return (
      <Card>
        <p className="text-sm text-zinc-500">Checking your invitation…</p>
      </Card>
    );
  if (preview.isError)
    return (
      <Card>
        <h2 className="text-lg font-semibold">This invitation cannot be used</h2>
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{preview.error.message}</p>
      </Card>
    );

  const inv = preview.data;
  const header = (
    <div className="mb-4">
      <h2 className="text-lg font-semibold">Join {inv.teamName}</h2>
      <p className="mt-1 flex items-center gap-2 text-sm text-zinc-500">
        as <RoleBadge role={inv.role} /> · invitation for {inv.email}
      </p>
    </div>
  );

  if (user) {
    if (user.email !== inv.email)
      return (
        <Card>
          {header}
          <p className="text-sm">
            You are signed in as {user.email}. This invitation is for {inv.email}.
          </p>
          <Button variant="secondary" className="mt-4" onClick={() => signOut({ callbackUrl: `/invite/${token}` })}>
            Sign out
          </Button>
        </Card>
      );
    return (
      <Card>
        {header}
        <Button busy={accept.isPending} onClick={() => accept.mutate({ token })}>
          Join {inv.teamName}
        </Button>
      </Card>
    );
  }

  if (inv.hasAccount)
    return (
      <Card>
        {header}
        <p className="text-sm">You already have an account. Sign in, and you will come back here to accept.</p>
        <Link
          href={`/signin?callbackUrl=${encodeURIComponent(`/invite/${token}`)}`}
          className="mt-4 inline-block text-sm font-medium text-indigo-600 hover:underline"
        >
          Sign in as {inv.email}
        </Link>
      </Card>
    );

  const { errors } = form.formState;
  return (
    <Card>
      {header}
      <form
        onSubmit={form.handleSubmit((v) => accept.mutate({ token, name: v.name, password: v.password }))}
        className="space-y-4"
        noValidate
      >
        <Field id="signup-name" label="Your name" error={errors.name?.message}>
          <Input id="signup-name" autoComplete="name" autoFocus aria-invalid={!!errors.name} {...form.register("name")} />
        </Field>
        <Field id="signup-password" label="Choose a password" error={errors.password?.message} hint="At least 10 characters">
          <Input
            id="signup-password"
            type="password"
            autoComplete="new-password"
            aria-invalid={!!errors.password}
            {...form.register("password")}
          />
        </Field>
        <Field id="signup-confirm" label="Repeat the password" error={errors.confirm?.message}>
          <Input
            id="signup-confirm"
            type="password"
            autoComplete="new-password"
            aria-invalid={!!errors.confirm}
            {...form.register("confirm")}
          />
        </Field>
        <Button type="submit" busy={accept.isPending}>
          Create account and join
        </Button>
      </form>
    </Card>
  );
}
