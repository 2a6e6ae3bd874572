"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import { Button, Card, Field, Input } from "@/components/ui";

const schema = z.object({
  email: z.string().trim().min(1, "Required").email("Enter a valid email address"),
  password: z.string().min(1, "Required"),
});
type Values = z.infer<typeof schema>;
/** One id for every sign-in error toast: a new attempt replaces it, a successful one dismisses it. */
const ERROR_TOAST = "sign-in-error";

export function SignInForm({
  callbackUrl,
  oidcName,
  initialError,
}: {
  callbackUrl: string;
  oidcName: string | null;
  initialError: string | null;
}) {
  const router = useRouter();
  const { register, handleSubmit, formState } = useForm<Values>({ resolver: zodResolver(schema) });
  useEffect(() => {
    if (initialError) toast.error(initialError, { id: ERROR_TOAST });
  }, [initialError]);

  const onSubmit = handleSubmit(async (values) => {
    toast.dismiss(ERROR_TOAST);
    const res = await signIn("credentials", { ...values, redirect: false });
    if (!res || res.error) {
      toast.error(res?.error && res.error !== "CredentialsSignin" ? res.error : "Invalid email or password", { id: ERROR_TOAST });
      return;
    }
    router.replace(callbackUrl);
    router.refresh();
  });

  return (
    <Card>
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <Field id="email" label="Email" error={formState.errors.email?.message}>
          <Input id="email" type="email" autoComplete="email" autoFocus aria-invalid={!!formState.errors.email} {...register("email")} />
        </Field>
        <Field id="password" label="Password" error={formState.errors.password?.message}>
          <Input
            id="password"
            type="password"
            autoComplete="current-password"
            aria-invalid={!!formState.errors.password}
            {...register("password")}
          />
        </Field>
        <Button type="submit" className="w-full" busy={formState.isSubmitting}>
          Sign in
        </Button>
      </form>
      {oidcName && (
        <div className="mt-4 border-t border-zinc-200 pt-4 dark:border-zinc-800">
          <Button variant="secondary" className="w-full" onClick={() => signIn("oidc", { callbackUrl })}>
            Continue with {oidcName}
          </Button>
        </div>
      )}
      <p className="mt-4 text-center text-xs text-zinc-500">Accounts are created by invitation. Ask a team admin for a link.</p>
    </Card>
  );
}
