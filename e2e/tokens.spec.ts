/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { request as playwrightRequest, type Page } from "@playwright/test";
import { E2E_BASE_URL } from "../playwright.config";
import { ADMIN, expect, FROM_DASHBOARD, signInThroughApi, test } from "./helpers";

const SHOTS = process.env.TOKENS_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there

/** A script's view: no cookies, only the token. */
async function asScript(token: string) {
  return playwrightRequest.newContext({ baseURL: E2E_BASE_URL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
}

async function shots(page: Page, name: string) {
  if (!SHOTS) return;
  await page.screenshot({ path: `${SHOTS}/${name}-light.png`, fullPage: true });
  await page.getByRole("button", { name: "Switch to dark mode" }).click();
  await page.screenshot({ path: `${SHOTS}/${name}-dark.png`, fullPage: true });
  await page.getByRole("button", { name: "Switch to light mode" }).click();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${SHOTS}/${name}-390.png`, fullPage: true });
  // What sticks out past 390 px, if anything (the table scrolls inside its card).
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest(".overflow-x-auto"))
      .map((e) => `${e.tagName}.${e.className}`.slice(0, 80))
      .slice(0, 5),
  );
  expect(wide).toEqual([]);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("a personal token: created in the browser, copied once, works for a script, revoked in the browser", async ({ browser }) => {
  const stamp = `k${Date.now().toString(36)}`;
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  await signInThroughApi(context.request, ADMIN.email, ADMIN.password);
  const team = (
    await (
      await context.request.post("/api/v1/teams", { data: { name: `Team ${stamp}`, slug: `team-${stamp}` }, headers: FROM_DASHBOARD })
    ).json()
  ).team;
  const page = await context.newPage();
  await page.goto("/account");
  await page.getByRole("link", { name: "Manage API tokens" }).click();
  await expect(page).toHaveURL(/\/account\/tokens$/);
  await expect(page).toHaveTitle(/API tokens/);

  await page.getByRole("button", { name: "New token" }).click();
  const dialog = page.getByRole("dialog", { name: "New API token" });
  // No scope: the field says so, nothing is created.
  await dialog.getByLabel("read", { exact: true }).uncheck();
  await dialog.getByLabel("jobs:write").uncheck();
  await dialog.getByRole("button", { name: "Create token" }).click();
  await expect(dialog.getByText("Name the token")).toBeVisible();
  await expect(dialog.getByText("Choose at least one scope")).toBeVisible();
  await dialog.getByLabel("Name").fill("CI pipeline");
  await dialog.getByLabel("read", { exact: true }).check();
  await dialog.getByLabel("jobs:write").check();
  await dialog.getByLabel("Expires").selectOption("30");
  await dialog.getByLabel("Team").selectOption(team.slug);
  await dialog.getByRole("button", { name: "Create token" }).click();
  await expect(dialog).toBeHidden();

  const shown = page.getByTestId("new-token");
  await expect(shown).toHaveText(/^wyolo_[A-Za-z0-9_-]{43}$/);
  const token = (await shown.textContent())!;
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  const row = page.getByTestId("token-row").filter({ hasText: "CI pipeline" });
  await expect(row).toContainText(token.slice(0, 14));
  await expect(row).toContainText(team.name);
  await expect(row).toContainText("Never");
  await shots(page, "tokens-account");

  // Shown once: after Done, and after a reload, the token's secret part is nowhere on the page.
  await page.getByRole("button", { name: "Done" }).click();
  await expect(shown).toHaveCount(0);
  await page.reload();
  await expect(row).toBeVisible();
  expect(await page.content()).not.toContain(token.slice(14));

  const script = await asScript(token);
  const me = await script.get("/api/v1/me");
  expect(me.status()).toBe(200);
  expect((await me.json()).user.grant).toMatchObject({ kind: "PERSONAL", scopes: ["read", "jobs:write"], teamId: team.id });
  // A token cannot mint tokens, nor create projects without the admin scope.
  expect((await script.post("/api/v1/account/tokens", { data: { name: "x", scopes: ["read"] } })).status()).toBe(403);
  const noScope = await script.post(`/api/v1/teams/${team.id}/projects`, { data: { name: "From CI" } });
  expect(noScope.status()).toBe(403);
  expect((await noScope.json()).error.message).toBe('This token lacks the "admin" scope');

  await page.reload();
  await expect(row).not.toContainText("Never");
  await row.getByRole("button", { name: "Revoke CI pipeline" }).click();
  await page
    .getByRole("dialog", { name: /Revoke/ })
    .getByRole("button", { name: "Revoke" })
    .click();
  await expect(row).toContainText("Revoked");
  const after = await script.get("/api/v1/me");
  expect(after.status()).toBe(401);
  expect((await after.json()).error.message).toBe("This token has been revoked");
  await script.dispose();
  await context.close();
});

test("a team service token: an admin creates it with a role, it acts as that role, revoke ends it", async ({ browser }) => {
  const stamp = `s${Date.now().toString(36)}`;
  const context = await browser.newContext();
  await signInThroughApi(context.request, ADMIN.email, ADMIN.password);
  const team = (
    await (
      await context.request.post("/api/v1/teams", { data: { name: `Team ${stamp}`, slug: `team-${stamp}` }, headers: FROM_DASHBOARD })
    ).json()
  ).team;
  const page = await context.newPage();
  await page.goto(`/t/${team.slug}`);
  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Tokens" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team.slug}/tokens$`));
  await expect(page.getByText("No tokens yet")).toBeVisible();

  await page.getByRole("button", { name: "New token" }).click();
  const dialog = page.getByRole("dialog", { name: "New service token" });
  await dialog.getByLabel("Name").fill("Nightly bot");
  await dialog.getByLabel("admin", { exact: true }).check();
  await dialog.getByLabel("Role in the team").selectOption("VIEWER");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!;
  await page.getByRole("button", { name: "Done" }).click();
  const row = page.getByTestId("token-row").filter({ hasText: "Nightly bot" });
  await expect(row).toContainText("VIEWER");
  await shots(page, "tokens-team");

  const script = await asScript(token);
  expect((await script.get(`/api/v1/teams/${team.id}/projects`)).status()).toBe(200);
  // The admin scope does not lift a VIEWER's role.
  const denied = await script.post(`/api/v1/teams/${team.id}/projects`, { data: { name: "By the bot" } });
  expect(denied.status()).toBe(403);
  expect((await denied.json()).error.message).toBe("Your role does not allow this");
  // It is not listed among the members.
  await page.goto(`/t/${team.slug}/members`);
  await expect(page.getByText("Nightly bot")).toHaveCount(0);

  await page.goto(`/t/${team.slug}/tokens`);
  await row.getByRole("button", { name: "Revoke Nightly bot" }).click();
  await page
    .getByRole("dialog", { name: /Revoke/ })
    .getByRole("button", { name: "Revoke" })
    .click();
  await expect(row).toContainText("Revoked");
  expect((await script.get(`/api/v1/teams/${team.id}/projects`)).status()).toBe(401);
  await script.dispose();
  await context.close();
});
