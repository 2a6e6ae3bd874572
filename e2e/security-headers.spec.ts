import { ADMIN, FROM_DASHBOARD, expect, signInThroughUi, test } from "./helpers";
import type { APIResponse } from "@playwright/test";

function expectStaticHeaders(res: APIResponse, what: string) {
  const h = res.headers();
  expect.soft(h["x-content-type-options"], what).toBe("nosniff");
  expect.soft(h["x-frame-options"], what).toBe("DENY");
  expect.soft(h["referrer-policy"], what).toBe("strict-origin-when-cross-origin");
  expect.soft(h["permissions-policy"], what).toMatch(/camera=\(\).*geolocation=\(\).*microphone=\(\)/);
  expect.soft(h["content-security-policy"], what).toContain("frame-ancestors 'none'");
  // The e2e app's public address is plain http, where HSTS must not be sent.
  expect.soft(h["strict-transport-security"], what).toBeUndefined();
}

test("every kind of answer carries the security headers; pages get a fresh CSP nonce that all their scripts carry", async ({ request }) => {
  const page = await request.get("/signin");
  expect(page.status()).toBe(200);
  expectStaticHeaders(page, "page");
  const csp = page.headers()["content-security-policy"]!;
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce, csp).toBeTruthy();
  expect(csp).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
  expect(csp).not.toContain("unsafe-eval");
  const html = await page.text();
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(1);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  const again = (await request.get("/signin")).headers()["content-security-policy"];
  expect(again).not.toContain(nonce);

  const asset = /<script[^>]+src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset, "a static script in the page").toBeTruthy();
  const answers: Record<string, APIResponse> = {
    "API JSON": await request.get("/api/v1/me"),
    health: await request.get("/api/health"),
    "next-auth": await request.get("/api/auth/csrf"),
    "404 page": await request.get("/no-such-page"),
    "API 404": await request.get("/api/v1/no-such-route"),
    "static asset": await request.get(asset!),
    icon: await request.get("/icon.svg"),
    "socket.io polling": await request.get("/socket.io/?EIO=4&transport=polling"),
  };
  expect(answers["API JSON"]!.status()).toBe(401);
  expect(answers["404 page"]!.status()).toBe(404);
  expect(answers["API 404"]!.status()).toBe(404);
  expect(answers["static asset"]!.status()).toBe(200);
  for (const [what, res] of Object.entries(answers)) expectStaticHeaders(res, what);
  // Answers that are not pages may load and run nothing, even when opened as a document.
  for (const what of ["API JSON", "health", "static asset", "socket.io polling"]) {
    expect.soft(answers[what]!.headers()["content-security-policy"], what).toMatch(/^default-src 'none'/);
  }
});

test("the app renders under its CSP: sign-in and a job page with charts, light and dark", async ({ browser, page }) => {
  await page.goto("/signin");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  // Tailwind's stylesheet applied: the button has a background colour, not the browser default.
  await expect(page.getByRole("button", { name: "Sign in" })).not.toHaveCSS("background-color", "rgba(0, 0, 0, 0)");
  await page.screenshot({ path: "test-results/csp-signin-light.png", fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.screenshot({ path: "test-results/csp-signin-dark.png", fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });

  // The theme script (inline, nonced) ran before hydration: a saved choice applies at first paint.
  const themed = await browser.newContext({ colorScheme: "light" });
  await themed.addInitScript({ content: `localStorage.setItem("theme", "dark")` });
  const themedPage = await themed.newPage();
  await themedPage.goto("/signin");
  await expect(themedPage.locator("html")).toHaveClass(/dark/);
  await themed.close();

  // A finished job: its page has the metrics chart, the log and live updates over socket.io.
  await signInThroughUi(page, ADMIN.email, ADMIN.password);
  const stamp = `s${Date.now().toString(36)}`;
  const team = (
    await (
      await page.request.post("/api/v1/teams", { data: { name: `Team ${stamp}`, slug: `team-${stamp}` }, headers: FROM_DASHBOARD })
    ).json()
  ).team;
  const project = (
    await (
      await page.request.post(`/api/v1/teams/${team.id}/projects`, { data: { name: "Shapes", slug: "shapes" }, headers: FROM_DASHBOARD })
    ).json()
  ).project;
  const created = await page.request.post(`/api/v1/projects/${project.id}/jobs`, {
    data: {
      name: "csp check",
      config: { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 4 }, metadata: { fake: { delayMs: 300 } } },
    },
    headers: FROM_DASHBOARD,
  });
  expect(created.status(), await created.text()).toBe(201);
  const { job } = await created.json();
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(`/t/${team.slug}/p/shapes/jobs/${job.id}`);
  await expect(page.getByTestId("job-status").first()).toHaveText(/SUCCEEDED/, { timeout: 30_000 });
  // The live updates' websocket opened under connect-src.
  expect(sockets.some((url) => url.includes("/socket.io/"))).toBe(true);
  const chart = page.getByRole("img", { name: /Validation metrics: .*over 4 epochs/ });
  await expect(chart).toBeVisible();
  // The chart (uPlot) drew on its canvas under the CSP.
  await expect(chart.locator("canvas").first()).toBeVisible();
  await page.screenshot({ path: "test-results/csp-job-light.png", fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.screenshot({ path: "test-results/csp-job-dark.png", fullPage: true });
});
