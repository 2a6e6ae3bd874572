/// <reference lib="dom" />
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ADMIN, expect, FROM_DASHBOARD, signInThroughApi, test } from "./helpers";

// A receiver on this host (scripts/e2e-server.sh allows 127.0.0.1 for webhooks); the worker
// delivers to it.
const SHOTS = process.env.WEBHOOK_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there
type Got = { headers: http.IncomingHttpHeaders; body: string };
const got: Got[] = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    got.push({ headers: req.headers, body });
    res.writeHead(200, { "content-type": "text/plain" }).end("thanks from the e2e receiver");
  });
});

test.beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
});
test.afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
});

test("an admin creates a webhook, copies its secret once, sends a test and sees it delivered in the log", async ({ browser }) => {
  const port = (receiver.address() as AddressInfo).port;
  const stamp = `w${Date.now().toString(36)}`;
  const context = await browser.newContext();
  await signInThroughApi(context.request, ADMIN.email, ADMIN.password);
  const team = (
    await (
      await context.request.post("/api/v1/teams", { data: { name: `Team ${stamp}`, slug: `team-${stamp}` }, headers: FROM_DASHBOARD })
    ).json()
  ).team;
  const page = await context.newPage();
  await page.goto(`/t/${team.slug}/webhooks`);
  await expect(page.getByText("No webhooks yet")).toBeVisible();

  await page.getByRole("button", { name: "New webhook" }).click();
  const dialog = page.getByRole("dialog", { name: "New webhook" });
  await dialog.getByLabel("Name").fill("CI receiver");
  // A refused address answers with the guard's reason on the field.
  await dialog.getByLabel("URL").fill("http://169.254.169.254/latest/meta-data");
  await dialog.getByRole("button", { name: "Create webhook" }).click();
  await expect(dialog.getByText(/link-?local address: not allowed for webhooks/i)).toBeVisible();
  await dialog.getByLabel("URL").fill(`http://127.0.0.1:${port}/hook`);
  await dialog.getByLabel("job.cancelled").check();
  await dialog.getByRole("button", { name: "Create webhook" }).click();
  await expect(dialog).toBeHidden();

  const secretBox = page.getByLabel("Signing secret");
  await expect(secretBox).toHaveValue(/^whsec_/);
  const secret = await secretBox.inputValue();
  await page.getByRole("button", { name: "Done" }).click();
  await expect(secretBox).toHaveCount(0);

  await page.getByRole("button", { name: "Send test" }).click();
  const log = page.getByRole("table", { name: "Recent deliveries" });
  await expect(log.getByText("delivered")).toBeVisible({ timeout: 20_000 });
  await expect(log.getByText("HTTP 200")).toBeVisible();
  await log.getByText("Response body").click();
  await expect(log.getByText("thanks from the e2e receiver")).toBeVisible();

  // What the receiver got verifies with the secret the page showed.
  expect(got).toHaveLength(1);
  const { headers, body } = got[0]!;
  expect(headers["wyolo-event"]).toBe("ping");
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers["wyolo-signature"]))!;
  expect(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")).toBe(v1);
  expect(JSON.parse(body).links.webhooks).toMatch(new RegExp(`^http://localhost:\\d+/t/${team.slug}/webhooks$`));

  await page.getByRole("button", { name: /^Redeliver ping/ }).click();
  await expect(log.getByText("redelivery", { exact: false })).toBeVisible();
  await expect(log.getByText("delivered")).toHaveCount(2, { timeout: 20_000 });
  expect(got).toHaveLength(2);

  if (SHOTS) {
    await page.screenshot({ path: `${SHOTS}/webhooks-light.png`, fullPage: true });
    await page.getByRole("button", { name: "Switch to dark mode" }).click();
    await page.screenshot({ path: `${SHOTS}/webhooks-dark.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SHOTS}/webhooks-390.png`, fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByRole("button", { name: "New webhook" }).click();
    await page.screenshot({ path: `${SHOTS}/webhooks-dialog-390.png` });
    await page.keyboard.press("Escape");
  }

  // Delete, through the confirmation dialog.
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog", { name: "Delete CI receiver?" }).getByRole("button", { name: "Delete webhook" }).click();
  await expect(page.getByText("No webhooks yet")).toBeVisible();
  await context.close();
});
