import { describe, expect, it } from "vitest";
import { can, canAssignRole, PERMISSIONS, ROLES } from "../src/index.ts";

describe("permission table", () => {
  it("gives VIEWER read permissions only", () => {
    const viewer = Object.keys(PERMISSIONS).filter((p) => can("VIEWER", p as keyof typeof PERMISSIONS));
    expect(viewer.every((p) => p.endsWith(".read"))).toBe(true);
    expect(viewer).toContain("project.read");
  });

  it("lets MEMBER create jobs and cancel their own, nothing that manages the team", () => {
    expect(can("MEMBER", "job.create")).toBe(true);
    expect(can("MEMBER", "job.cancel.own")).toBe(true);
    expect(can("MEMBER", "job.cancel.any")).toBe(false);
    expect(can("MEMBER", "project.create")).toBe(false);
    expect(can("MEMBER", "member.invite")).toBe(false);
  });

  it("keeps team deletion and ownership transfer to OWNER", () => {
    for (const role of ROLES) {
      expect(can(role, "team.delete")).toBe(role === "OWNER");
      expect(can(role, "team.transfer")).toBe(role === "OWNER");
    }
  });

  it("ranks roles: every permission of a role is also held by the roles above it", () => {
    for (const [permission, roles] of Object.entries(PERMISSIONS)) {
      const lowest = Math.max(...roles.map((r) => ROLES.indexOf(r)));
      expect(roles.length, permission).toBe(lowest + 1);
    }
  });

  it("refuses no role at all", () => {
    expect(can(null, "team.read")).toBe(false);
    expect(can(undefined, "team.read")).toBe(false);
  });
});

describe("role assignment", () => {
  it("lets only an OWNER grant or remove OWNER", () => {
    expect(canAssignRole("OWNER", "ADMIN", "OWNER")).toBe(true);
    expect(canAssignRole("OWNER", "OWNER", "MEMBER")).toBe(true);
    expect(canAssignRole("ADMIN", "MEMBER", "OWNER")).toBe(false);
    expect(canAssignRole("ADMIN", "OWNER", "MEMBER")).toBe(false);
    expect(canAssignRole("ADMIN", "VIEWER", "ADMIN")).toBe(true);
    expect(canAssignRole("MEMBER", "VIEWER", "MEMBER")).toBe(false);
  });
});
