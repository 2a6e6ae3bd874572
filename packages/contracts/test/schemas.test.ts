import { describe, expect, it } from "vitest";
import {
  acceptInvitationSchema,
  changePasswordSchema,
  createInvitationSchema,
  createProjectSchema,
  createTeamSchema,
  slugify,
} from "../src/index.ts";

describe("slugify", () => {
  it.each([
    ["Vision Lab", "vision-lab"],
    ["  Ünïcödé Téam!! ", "unicode-team"],
    ["a--b__c", "a-b-c"],
    ["!!!", ""],
  ])("%s → %s", (input, slug) => expect(slugify(input)).toBe(slug));

  it("never ends with a dash after truncation", () => {
    const slug = slugify(`${"a".repeat(47)} b`);
    expect(slug.length).toBeLessThanOrEqual(48);
    expect(slug.endsWith("-")).toBe(false);
  });
});

describe("schemas", () => {
  it("normalises emails to lower case and trims them", () => {
    expect(createInvitationSchema.parse({ email: "  Ana@Example.COM ", role: "VIEWER" }).email).toBe("ana@example.com");
  });

  it("refuses unknown roles and bad emails with field paths", () => {
    const result = createInvitationSchema.safeParse({ email: "nope", role: "KING" });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toEqual(["email", "role"]);
  });

  it("treats an empty slug as 'derive it' and refuses a malformed one", () => {
    expect(createTeamSchema.parse({ name: "Lab", slug: "" }).slug).toBeUndefined();
    expect(createProjectSchema.safeParse({ name: "Lab", slug: "Has Spaces" }).success).toBe(false);
    expect(createProjectSchema.parse({ name: "Lab" }).description).toBe("");
  });

  it("requires a new password that differs and is long enough", () => {
    expect(changePasswordSchema.safeParse({ currentPassword: "same-password-1", newPassword: "same-password-1" }).success).toBe(false);
    expect(changePasswordSchema.safeParse({ currentPassword: "x", newPassword: "short" }).success).toBe(false);
    expect(changePasswordSchema.safeParse({ currentPassword: "x", newPassword: "long-enough-pw" }).success).toBe(true);
  });

  it("accepts only well-formed invitation tokens", () => {
    expect(acceptInvitationSchema.safeParse({ token: "a".repeat(43) }).success).toBe(true);
    expect(acceptInvitationSchema.safeParse({ token: "../../etc" }).success).toBe(false);
  });
});
