/// <reference lib="dom" />
import type { Page } from "@playwright/test";
import { FROM_DASHBOARD, expect, seedTeam, test } from "./helpers";

// The model registry in the browser: jobs that succeed (fake trainer) become versions of the
// project's model; an ADMIN sets an alias through the dialog; a MEMBER sees them without the
// controls. No MLflow here: the in-app registry works the same without it.
const SHOTS = process.env.MODELS_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there

async function train(page: Page, projectId: string, name: string) {
  const res = await page.request.post(`/api/v1/projects/${projectId}/jobs`, {
    data: { name, config: { model: "yolo11n.yaml", train: { data: "shapes/data.yaml", epochs: 3 }, metadata: { fake: { delayMs: 50 } } } },
    headers: FROM_DASHBOARD,
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).job.id as string;
}

async function succeeded(page: Page, jobId: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${jobId}`)).json()).job.status, { timeout: 60_000 })
    .toBe("SUCCEEDED");
}

test("a succeeded job becomes a version; an ADMIN sets an alias; compare with champion; download", async ({ browser }) => {
  const stamp = `md${Date.now().toString(36)}`;
  const { projectUrl, project, team, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  // One after the other: versions are numbered in the order jobs succeed.
  const first = await train(member, project.id, "first model");
  await succeeded(member, first);
  const second = await train(member, project.id, "second model");
  await succeeded(member, second);

  const page = await admin.newPage();
  await page.goto(`${projectUrl}/models`);
  await expect(page).toHaveTitle(new RegExp(`^Models · Shapes`));
  await expect(page.getByRole("heading", { name: "Models", level: 1 })).toBeVisible();
  await expect(page.getByText(`team-${stamp}/shapes`).first()).toBeVisible();
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows).toHaveCount(3); // header + two versions, newest first
  const v1 = rows.filter({ has: page.getByRole("rowheader", { name: /^v1(?!\d)/ }) });
  const v2 = rows.filter({ has: page.getByRole("rowheader", { name: /^v2(?!\d)/ }) });
  await expect(v1.getByRole("link", { name: "first model" })).toHaveAttribute("href", `${projectUrl}/jobs/${first}`);
  await expect(v1).toContainText("shapes/data.yaml");
  await expect(v1).toContainText("mAP50-95");

  // A reserved name is refused in the form, with the server's rule.
  await v1.getByRole("button", { name: "Set an alias on v1" }).click();
  const dialog = page.getByRole("dialog", { name: "Set an alias on v1" });
  await dialog.getByLabel("Alias").fill("latest");
  await dialog.getByRole("button", { name: "Set alias" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("`latest` and v<number> are reserved by MLflow");
  await dialog.getByLabel("Alias").fill("champion");
  await dialog.getByRole("button", { name: "Set alias" }).click();
  await expect(page.getByText("champion → v1")).toBeVisible(); // the toast
  await expect(dialog).toBeHidden();
  await expect(v1.getByRole("rowheader")).toContainText("champion");
  await expect(page.getByRole("list", { name: "Aliases" })).toContainText("champion→ v1");

  // v2 links to the compare page with the champion's job, and to its export panel; best.pt downloads.
  await expect(v2.getByRole("link", { name: "Compare with champion" })).toHaveAttribute(
    "href",
    `/t/${team.slug}/compare?jobs=${second},${first}`,
  );
  await expect(v2.getByRole("link", { name: "Export v2" })).toHaveAttribute("href", `${projectUrl}/jobs/${second}#exports`);
  const download = await v2.getByRole("link", { name: "Download best.pt of v2" }).getAttribute("href");
  const res = await page.request.get(download!, { maxRedirects: 0 });
  expect([200, 302, 303, 307]).toContain(res.status());

  if (SHOTS) {
    await page.screenshot({ path: `${SHOTS}/models-light.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await expect(v1.getByRole("rowheader")).toContainText("champion");
    await page.screenshot({ path: `${SHOTS}/models-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(v1.getByRole("rowheader")).toContainText("champion");
  // The table scrolls in its own box; the page itself never scrolls sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/models-390.png`, fullPage: true });

  // Moving the alias through the API, then removing it in the page.
  const moved = await page.request.put(`/api/v1/projects/${project.id}/models/aliases/champion`, {
    data: { version: 2 },
    headers: FROM_DASHBOARD,
  });
  expect(moved.status()).toBe(200);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.reload();
  await expect(v2.getByRole("rowheader")).toContainText("champion");
  await page.getByRole("button", { name: "Remove alias champion" }).click();
  await page.getByRole("dialog", { name: "Remove alias champion?" }).getByRole("button", { name: "Remove alias" }).click();
  await expect(page.getByRole("list", { name: "Aliases" })).toHaveCount(0);

  // A MEMBER reads the registry but changes nothing in it.
  await member.goto(`${projectUrl}/models`);
  await expect(member.getByRole("table").getByRole("row")).toHaveCount(3);
  await expect(member.getByRole("button", { name: /Set an alias/ })).toHaveCount(0);
  await expect(member.getByRole("form", { name: "Registry settings" })).toHaveCount(0);
  const refused = await member.request.put(`/api/v1/projects/${project.id}/models/aliases/champion`, {
    data: { version: 1 },
    headers: FROM_DASHBOARD,
  });
  expect(refused.status()).toBe(403);
});
