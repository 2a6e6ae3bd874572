import { test as base, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { E2E_BASE_URL } from "../playwright.config";

// Every page of every context a test opens (the default one and those from browser.newContext)
// reports Content-Security-Policy violations; the test fails if there was any. The init script
// runs before the page's own scripts and is not itself subject to the page's CSP.
const reportViolations = `document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at " + (e.sourceFile || location.href) + ":" + e.lineNumber), true);`;

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ browser, context }, use) => {
      const violations: string[] = [];
      const watch = async (ctx: BrowserContext) => {
        // Chromium's own "Refused to … Content Security Policy" messages, and the listener's.
        ctx.on("console", (msg) => {
          if (/Content Security Policy|CSP violation/i.test(msg.text())) violations.push(`${msg.page()?.url() ?? "?"}: ${msg.text()}`);
        });
        await ctx.addInitScript({ content: reportViolations });
      };
      await watch(context);
      const newContext = browser.newContext;
      browser.newContext = async (options) => {
        const ctx = await newContext.call(browser, options);
        await watch(ctx);
        return ctx;
      };
      try {
        await use(violations);
      } finally {
        browser.newContext = newContext;
      }
      expect(violations, "Content-Security-Policy violations in the browser").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

export const ADMIN = { email: "admin@e2e.test", password: "e2e-admin-password" };

/**
 * What the dashboard's own pages send with a change: signed-in API calls without it are refused
 * as cross-site (CSRF), and Playwright's request context sends no Origin by itself.
 */
export const FROM_DASHBOARD = { Origin: new URL(E2E_BASE_URL).origin };

export async function signInThroughUi(page: Page, email: string, password: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/signin/);
}

/** Signs in through next-auth's credentials endpoint; the context's cookie jar keeps the session. */
export async function signInThroughApi(request: APIRequestContext, email: string, password: string) {
  const { csrfToken } = await (await request.get("/api/auth/csrf")).json();
  const res = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, email, password, json: "true" },
    headers: FROM_DASHBOARD,
  });
  expect(res.ok()).toBe(true);
  expect((await request.get("/api/v1/me")).status()).toBe(200);
}

/** Creates an invitation through the members page and returns the copyable link it shows. */
export async function inviteThroughUi(page: Page, teamSlug: string, email: string, role: string): Promise<string> {
  await page.goto(`/t/${teamSlug}/members`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByRole("button", { name: "Create invite link" }).click();
  const link = page.getByLabel("Invitation link");
  await expect(link).toHaveValue(/\/invite\//);
  return link.inputValue();
}

export async function acceptAsNewUser(page: Page, link: string, name: string, password: string) {
  await page.goto(link);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Choose a password").fill(password);
  await page.getByLabel("Repeat the password").fill(password);
  await page.getByRole("button", { name: "Create account and join" }).click();
  await expect(page).toHaveURL(/\/t\//);
}

/** Seeds through the API: a team and project of the admin's, and signed-in pages for new users with the given roles. */
export async function seedTeam(browser: Browser, stamp: string, roles: string[]) {
  const admin = await browser.newContext();
  await signInThroughApi(admin.request, ADMIN.email, ADMIN.password);
  const team = (
    await (
      await admin.request.post("/api/v1/teams", { data: { name: `Team ${stamp}`, slug: `team-${stamp}` }, headers: FROM_DASHBOARD })
    ).json()
  ).team;
  const project = (
    await (
      await admin.request.post(`/api/v1/teams/${team.id}/projects`, { data: { name: "Shapes", slug: "shapes" }, headers: FROM_DASHBOARD })
    ).json()
  ).project;
  const pages: Page[] = [];
  for (const [i, role] of roles.entries()) {
    const email = `${role.toLowerCase()}-${i}-${stamp}@e2e.test`;
    const inv = (
      await (await admin.request.post(`/api/v1/teams/${team.id}/invitations`, { data: { email, role }, headers: FROM_DASHBOARD })).json()
    ).invitation;
    const token = new URL(inv.url).pathname.split("/").pop();
    const ctx = await browser.newContext();
    const password = `${role.toLowerCase()}-password-1`;
    expect(
      (
        await ctx.request.post("/api/v1/invitations/accept", {
          data: { token, name: `${role[0]}${role.slice(1).toLowerCase()} ${i}`, password },
          headers: FROM_DASHBOARD,
        })
      ).status(),
    ).toBe(201);
    await signInThroughApi(ctx.request, email, password);
    pages.push(await ctx.newPage());
  }
  return { admin, team, project, pages, projectUrl: `/t/${team.slug}/p/${project.slug}` };
}
