import { ADMIN, FROM_DASHBOARD, acceptAsNewUser, expect, inviteThroughUi, signInThroughUi, test } from "./helpers";

test("admin builds a team; a viewer joins read-only; another team's user gets 404", async ({ browser }) => {
  const stamp = Date.now().toString(36);
  const teamSlug = `lab-${stamp}`;

  // The admin signs in, creates a team and a project, and invites a VIEWER.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInThroughUi(admin, ADMIN.email, ADMIN.password);
  // Without a team the admin lands on /teams/new; specs that ran before (the CLI's) may have made one.
  await expect(admin).toHaveURL(/\/(teams\/new|t\/[a-z0-9-]+)$/);
  if (!admin.url().endsWith("/teams/new")) await admin.goto("/teams/new");
  await admin.getByLabel("Team name").fill("Vision Lab");
  await admin.getByLabel("Slug (optional)").fill(teamSlug);
  await admin.getByRole("button", { name: "Create team" }).click();
  await expect(admin).toHaveURL(new RegExp(`/t/${teamSlug}$`));
  await expect(admin.getByText("No projects yet")).toBeVisible();

  await admin.getByRole("button", { name: "New project" }).click();
  await admin.getByLabel("Name").fill("Pedestrians");
  await admin.getByRole("button", { name: "Create project" }).click();
  await expect(admin).toHaveURL(new RegExp(`/t/${teamSlug}/p/pedestrians$`));
  await expect(admin.getByRole("heading", { name: "Pedestrians" })).toBeVisible();
  const projectUrl = admin.url();
  const projectId = await admin.locator("dt:has-text('Project id') + dd").innerText();

  const viewerEmail = `viewer-${stamp}@e2e.test`;
  const viewerLink = await inviteThroughUi(admin, teamSlug, viewerEmail, "VIEWER");
  await expect(
    admin.getByRole("list", { name: "Pending invitations" }).getByRole("listitem").filter({ hasText: viewerEmail }),
  ).toBeVisible();

  // The viewer accepts, which creates the account and signs them in.
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await acceptAsNewUser(viewer, viewerLink, "Vera Viewer", "viewer-password-1");
  await expect(viewer).toHaveURL(new RegExp(`/t/${teamSlug}$`));
  await viewer.getByRole("link", { name: /Pedestrians/ }).click();
  await expect(viewer).toHaveURL(projectUrl);
  await expect(viewer.getByRole("heading", { name: "Pedestrians" })).toBeVisible();
  await expect(viewer.getByText("VIEWER", { exact: true })).toBeVisible();

  // No create button for a viewer, and the server refuses a direct call anyway.
  await viewer.goto(`/t/${teamSlug}`);
  await expect(viewer.getByRole("link", { name: /Pedestrians/ })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "New project" })).toHaveCount(0);
  const teamId = (await (await viewer.request.get("/api/v1/teams")).json()).teams[0].id;
  const refused = await viewer.request.post(`/api/v1/teams/${teamId}/projects`, { data: { name: "Sneaky" }, headers: FROM_DASHBOARD });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.code).toBe("FORBIDDEN");
  await viewer.goto(`/t/${teamSlug}/members`);
  await expect(viewer.getByRole("button", { name: "Create invite link" })).toHaveCount(0);

  // A user of another team: the admin makes a second team and invites them there.
  await admin.goto("/teams/new");
  await admin.getByLabel("Team name").fill("Other Lab");
  await admin.getByLabel("Slug (optional)").fill(`other-${stamp}`);
  await admin.getByRole("button", { name: "Create team" }).click();
  await expect(admin).toHaveURL(new RegExp(`/t/other-${stamp}$`));
  const outsiderLink = await inviteThroughUi(admin, `other-${stamp}`, `outsider-${stamp}@e2e.test`, "MEMBER");
  const outsiderContext = await browser.newContext();
  const outsider = await outsiderContext.newPage();
  await acceptAsNewUser(outsider, outsiderLink, "Otto Outsider", "outsider-password-1");

  const page404 = await outsider.goto(projectUrl);
  expect(page404?.status()).toBe(404);
  await expect(outsider.getByRole("heading", { name: "Not found" })).toBeVisible();
  expect((await outsider.request.get(`/api/v1/projects/${projectId}`)).status()).toBe(404);
  expect((await outsider.request.get(`/t/${teamSlug}`)).status()).toBe(404);

  await Promise.all([adminContext.close(), viewerContext.close(), outsiderContext.close()]);
});

test("sign-in shows one message for a wrong password and an unknown email", async ({ page }) => {
  for (const email of [ADMIN.email, "nobody@e2e.test"]) {
    await page.goto("/signin");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("definitely-wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Invalid email or password")).toBeVisible();
    await expect(page).toHaveURL(/\/signin/);
  }
});

test("signed-out visitors are sent to sign-in and come back after", async ({ page }) => {
  await page.goto("/account");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Faccount/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("heading", { name: "Account" })).toBeVisible();
});
