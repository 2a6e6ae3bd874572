import type { Page } from "@playwright/test";
import { E2E_BASE_URL } from "../playwright.config";
import { ADMIN, expect, FROM_DASHBOARD, signInThroughApi, signInThroughUi, test } from "./helpers";

// The API reference at /api-docs: Swagger UI from the app's own origin (no CDN: every request to
// another origin is refused and counted), under the page CSP (the helpers' fixture fails the test
// on any violation), and interactive: "Try it out" calls the API with the session or a token.

const SHOTS = process.env.API_DOCS_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there

/** Fails requests that leave the origin, and returns the list of those attempted. */
async function offline(page: Page): Promise<string[]> {
  const foreign: string[] = [];
  const origin = new URL(E2E_BASE_URL).origin;
  await page.context().route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  return foreign;
}

async function openOperation(page: Page, method: string, path: string) {
  const op = page.locator(`.opblock-${method.toLowerCase()}`).filter({ has: page.locator(`[data-path="${path}"]`) });
  await op.locator(".opblock-summary").first().click();
  return op;
}

test("signed out: the reference renders from the app's own origin, every operation listed", async ({ page }) => {
  const foreign = await offline(page);
  await page.goto("/api-docs");
  await expect(page.getByRole("heading", { name: "API reference" })).toBeVisible();
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Wyolo API");
  const doc = await (await page.request.get("/api/v1/openapi.json")).json();
  // Operations of paths and the webhook events, each one block.
  const operations = [
    ...Object.values(doc.paths as Record<string, object>),
    ...Object.values(doc.webhooks as Record<string, object>),
  ].reduce<number>((n, item) => n + Object.keys(item).filter((k) => ["get", "post", "put", "patch", "delete"].includes(k)).length, 0);
  await expect(page.locator(".opblock")).toHaveCount(operations);
  await expect(page.locator('[data-path="/projects/{projectId}/jobs"]').first()).toBeVisible();
  expect(foreign).toEqual([]);
});

test("signed in: Try it out calls the API with the session", async ({ page }) => {
  await signInThroughUi(page, ADMIN.email, ADMIN.password);
  const foreign = await offline(page);
  await page.goto("/api-docs");
  const op = await openOperation(page, "GET", "/me");
  await op.getByRole("button", { name: "Try it out" }).click();
  await op.getByRole("button", { name: "Execute" }).click();
  const response = op.locator(".responses-table.live-responses-table");
  await expect(response.locator("tbody .response-col_status").first()).toHaveText("200");
  await expect(response.locator(".microlight").first()).toContainText(ADMIN.email);
  expect(foreign).toEqual([]);
  if (SHOTS) {
    await page.screenshot({ path: `${SHOTS}/api-docs-light.png` });
    await page.getByRole("button", { name: "Switch to dark mode" }).click();
    await expect(page.locator("html")).toHaveClass(/dark-mode/);
    await openOperation(page, "POST", "/projects/{projectId}/jobs");
    await page.screenshot({ path: `${SHOTS}/api-docs-dark.png` });
  }
  // A phone's width: the reference fits without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/api-docs");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Wyolo API");
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/api-docs-390.png` });
  const widths = (await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")) as number[];
  expect(widths[0], `page ${widths[0]} px wide in a ${widths[1]} px window`).toBeLessThanOrEqual(widths[1]!);
});

test("signed out: Authorize with an API token, then Try it out", async ({ page, browser }) => {
  const admin = await browser.newContext();
  await signInThroughApi(admin.request, ADMIN.email, ADMIN.password);
  const created = await admin.request.post("/api/v1/account/tokens", {
    data: { name: "api docs e2e", scopes: ["read"] },
    headers: FROM_DASHBOARD,
  });
  expect(created.status()).toBe(201);
  const { token } = (await created.json()) as { token: string };
  await admin.close();

  await offline(page);
  await page.goto("/api-docs");
  await page.getByRole("button", { name: "Authorize" }).first().click();
  const dialog = page.locator(".dialog-ux");
  await dialog.locator('input[type="text"], input[type="password"]').first().fill(token);
  await dialog.locator(".auth-btn-wrapper button.authorize").first().click();
  await expect(dialog.getByText("Authorized").first()).toBeVisible();
  await dialog.locator("button.btn-done").first().click();
  const op = await openOperation(page, "GET", "/me");
  await op.getByRole("button", { name: "Try it out" }).click();
  await op.getByRole("button", { name: "Execute" }).click();
  const response = op.locator(".responses-table.live-responses-table");
  await expect(response.locator("tbody .response-col_status").first()).toHaveText("200");
  await expect(response.locator(".microlight").first()).toContainText('"scopes"');
});
