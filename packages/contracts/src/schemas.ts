import { z } from "zod";
import { roleSchema } from "./roles.ts";
import { registrySettingsFields } from "./models.ts";

export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const slugSchema = z
  .string()
  .trim()
  .min(2, "At least 2 characters")
  .max(48, "At most 48 characters")
  .regex(SLUG_PATTERN, "Lower-case letters, digits and single dashes only");

/** "My Team!" → "my-team". Returns "" when nothing usable is left. */
export function slugify(input: string): string {
  return input
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
}

/** An optional slug where "" (an untouched form field) means "derive it from the name". */
const optionalSlugSchema = z.union([z.literal("").transform(() => undefined), slugSchema]).optional();

export const emailSchema = z
  .string()
  .trim()
  .max(254, "At most 254 characters")
  .pipe(z.email("Enter a valid email address"))
  .transform((e) => e.toLowerCase());

export const passwordSchema = z.string().min(10, "At least 10 characters").max(200, "At most 200 characters");

export const personNameSchema = z.string().trim().min(1, "Required").max(100, "At most 100 characters");
export const idSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-zA-Z0-9_-]+$/, "Invalid id");

export const signInSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "Required").max(200),
});

export const createTeamSchema = z.object({
  name: z.string().trim().min(2, "At least 2 characters").max(80, "At most 80 characters"),
  slug: optionalSlugSchema,
});
export type CreateTeamInput = z.input<typeof createTeamSchema>;

export const updateTeamSchema = z.object({
  name: z.string().trim().min(2, "At least 2 characters").max(80, "At most 80 characters"),
});

export const transferOwnershipSchema = z.object({ userId: idSchema });

export const createProjectSchema = z.object({
  name: z.string().trim().min(2, "At least 2 characters").max(80, "At most 80 characters"),
  slug: optionalSlugSchema,
  description: z.string().trim().max(500, "At most 500 characters").default(""),
});
export type CreateProjectInput = z.input<typeof createProjectSchema>;

export const updateProjectSchema = z
  .object({
    name: z.string().trim().min(2, "At least 2 characters").max(80, "At most 80 characters").optional(),
    description: z.string().trim().max(500, "At most 500 characters").optional(),
    ...registrySettingsFields,
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), "Nothing to update");

export const createInvitationSchema = z.object({
  email: emailSchema,
  role: roleSchema,
});
export type CreateInvitationInput = z.input<typeof createInvitationSchema>;

export const INVITE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;
export const inviteTokenSchema = z.string().regex(INVITE_TOKEN_PATTERN, "Invalid invitation link");

/** A signed-in user accepts with the token alone; a new user also gives a name and password. */
export const acceptInvitationSchema = z.object({
  token: inviteTokenSchema,
  name: personNameSchema.optional(),
  password: passwordSchema.optional(),
});

export const changeRoleSchema = z.object({ role: roleSchema });

export const changePasswordSchema = z
  .object({
    currentPassword: z.string().min(1, "Required").max(200),
    newPassword: passwordSchema,
  })
  .refine((v) => v.currentPassword !== v.newPassword, {
    path: ["newPassword"],
    message: "Must differ from the current password",
  });

export const updateUserSchema = z
  .object({ disabled: z.boolean().optional(), isPlatformAdmin: z.boolean().optional() })
  .refine((v) => v.disabled !== undefined || v.isPlatformAdmin !== undefined, "Nothing to update");
