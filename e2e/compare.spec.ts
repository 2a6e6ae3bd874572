import { mkdirSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, FROM_DASHBOARD, seedTeam, test } from "./helpers";

// Issue 11 §1: compare two finished jobs from the project's job table (overlaid curves, differing
// params highlighted, a shareable URL) and the project leaderboard sorted by a chosen metric.

const SHOTS = process.env.COMPARE_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there

/** A job the fixture trainer finishes in a moment, its mAP50-95 following `curve` (one value per epoch). */
async function finishedJob(page: Page, projectId: string, name: string, lr0: number, curve: number[]) {
  const res = await page.request.post(`/api/v1/projects/${projectId}/jobs`, {
    data: {
      name,
      config: {
        model: "yolo11n.pt",
        train: { data: "shapes/data.yaml", epochs: curve.length, lr0 },
        metadata: { fake: { delayMs: 60, curve } },
      },
    },
    headers: FROM_DASHBOARD,
  });
  expect(res.status()).toBe(201);
  return (await res.json()).job.id as string;
}

async function waitForStatus(page: Page, jobId: string, status: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${jobId}`)).json()).job.status, { timeout: 60_000 })
    .toBe(status);
}

const names = (page: Page) => page.getByRole("table", { name: "Leaderboard" }).locator("tbody tr td:nth-child(3) a").allTextContents();

test("compare two finished jobs from the job table; the leaderboard ranks by a chosen metric", async ({ browser }) => {
  test.setTimeout(150_000);
  const stamp = `cmp${Date.now().toString(36)}`;
  const { admin, team, project, pages, projectUrl } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  // mAP50-95 at the last (best) epoch: short 0.8 > tuned 0.7 > baseline 0.55; val/box_loss (2.1 / epochs): tuned < baseline < short.
  const baseline = await finishedJob(member, project.id, "baseline", 0.01, [0.1, 0.2, 0.3, 0.4, 0.5, 0.55]);
  const tuned = await finishedJob(member, project.id, "tuned", 0.02, [0.15, 0.3, 0.45, 0.55, 0.6, 0.65, 0.68, 0.7]);
  const short = await finishedJob(member, project.id, "short", 0.01, [0.3, 0.5, 0.7, 0.8]);
  for (const id of [baseline, tuned, short]) await waitForStatus(member, id, "SUCCEEDED");

  // The project page's tabs, and the job table's selection.
  await member.goto(projectUrl);
  const tabs = member.getByRole("navigation", { name: "Project sections" });
  await expect(tabs.getByRole("link")).toHaveText(["Jobs", "Sweeps", "Leaderboard", "Models"]);
  await expect(tabs.getByRole("link", { name: "Models" })).toHaveAttribute("href", `${projectUrl}/models`);
  await member.getByRole("checkbox", { name: "Select baseline to compare" }).check();
  await expect(member.getByText("Tick one more to compare")).toBeVisible();
  await member.getByRole("checkbox", { name: "Select tuned to compare" }).check();
  await member.getByRole("link", { name: "Compare (2)" }).click();
  await expect(member).toHaveURL(new RegExp(`/t/${team.slug}/compare\\?jobs=${baseline},${tuned}$`));

  // Overlaid curves: one chart per metric, a line per job; mAP50-95 and the validation losses by default.
  const map = member.getByTestId("compare-chart-metrics/mAP50-95(B)");
  await expect(map.getByRole("img")).toHaveAttribute("data-series", "baseline|tuned");
  await expect(map.getByRole("img")).toHaveAttribute("aria-label", /baseline, tuned over 8 epochs/);
  await expect(map.locator("canvas").first()).toBeVisible();
  await expect(member.getByTestId("compare-chart-val/box_loss").getByRole("img")).toHaveAttribute("data-series", "baseline|tuned");
  // Another metric is charted on request, and the choice goes into the URL.
  await member.getByRole("group", { name: "Metrics to chart" }).getByRole("button", { name: "lr/pg0" }).click();
  await expect(member.getByTestId("compare-chart-lr/pg0")).toBeVisible();
  await expect(member).toHaveURL(/metrics=.*lr%2Fpg0/);

  // Parameters: only those that differ, highlighted; "show all" adds the rest.
  const params = member.getByRole("table", { name: "Parameters" });
  await expect(params.locator("tbody tr")).toHaveCount(2);
  for (const key of ["epochs", "lr0"]) await expect(params.locator(`tr[data-param="${key}"]`)).toHaveAttribute("data-differs", "true");
  await expect(params.locator('tr[data-param="lr0"] td')).toHaveText(["0.01", "0.02"]);
  await member.getByLabel("Show all arguments").check();
  await expect(params.locator('tr[data-param="model"]')).toHaveAttribute("data-differs", "false");
  await expect(params.locator('tr[data-param="lr0"]')).toHaveClass(/bg-amber-50/);

  // Best and final metrics side by side, the better mAP marked; per-class metrics side by side.
  const metrics = member.getByRole("table", { name: "Final and best metrics" });
  await expect(metrics.locator('tr[data-metric="metrics/mAP50-95(B)"] td[data-best-of-row]')).toHaveText("0.7");
  await expect(member.getByRole("table", { name: "Per-class metrics" }).locator("tbody tr")).not.toHaveCount(0);

  // The URL is the comparison: it opens the same for another member (the admin here).
  const shared = member.url();
  const other = await admin.newPage();
  await other.goto(shared);
  await expect(other.getByTestId("compare-chart-lr/pg0").getByRole("img")).toHaveAttribute("data-series", "baseline|tuned");

  // Add a job from the picker; remove one.
  await member.getByRole("button", { name: "Add jobs" }).click();
  await member.getByRole("checkbox", { name: "Add short" }).check();
  await member.getByRole("button", { name: /Add 1 to the comparison/ }).click();
  await expect(map.getByRole("img")).toHaveAttribute("data-series", "baseline|tuned|short");
  await member.getByRole("button", { name: "Remove baseline from the comparison" }).click();
  await expect(map.getByRole("img")).toHaveAttribute("data-series", "tuned|short");
  await expect(member).toHaveURL(new RegExp(`jobs=${tuned},${short}`));

  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await member.goto(shared);
    await expect(map.locator("canvas").first()).toBeVisible();
    await member.screenshot({ path: `${SHOTS}/compare-light.png`, fullPage: true });
    await member.emulateMedia({ colorScheme: "dark" });
    await member.reload();
    await expect(map.locator("canvas").first()).toBeVisible();
    await member.screenshot({ path: `${SHOTS}/compare-dark.png`, fullPage: true });
    await member.emulateMedia({ colorScheme: "light" });
  }
  await member.setViewportSize({ width: 390, height: 844 });
  await member.goto(shared);
  await expect(map.locator("canvas").first()).toBeVisible();
  if (SHOTS) await member.screenshot({ path: `${SHOTS}/compare-390.png`, fullPage: true });
  expect(await member.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await member.setViewportSize({ width: 1280, height: 900 });

  // Leaderboard: by mAP50-95 (higher first) by default; by val/box_loss lower first, the metric in the URL.
  await member.goto(projectUrl);
  await member.getByRole("navigation", { name: "Project sections" }).getByRole("link", { name: "Leaderboard" }).click();
  await expect(member).toHaveURL(`${projectUrl}/leaderboard`);
  await expect.poll(() => names(member)).toEqual(["short", "tuned", "baseline"]);
  await expect(member.getByText("Higher is better · 3 finished jobs")).toBeVisible();
  await member.getByLabel("Rank by metric").selectOption("val/box_loss");
  await expect(member).toHaveURL(`${projectUrl}/leaderboard?metric=val%2Fbox_loss`);
  await expect.poll(() => names(member)).toEqual(["tuned", "baseline", "short"]);
  await expect(member.getByText("Lower is better · 3 finished jobs")).toBeVisible();
  await expect(member.getByRole("table", { name: "Leaderboard" }).locator("tbody tr").first()).toContainText("0.02");
  // Tick two rows → compare them.
  await member.getByRole("checkbox", { name: "Select tuned" }).check();
  await member.getByRole("checkbox", { name: "Select short" }).check();
  await member.getByRole("link", { name: "Compare (2)" }).click();
  await expect(member).toHaveURL(new RegExp(`/compare\\?jobs=${tuned},${short}$`));
  await member.goBack();

  if (SHOTS) {
    await expect.poll(() => names(member)).toEqual(["tuned", "baseline", "short"]);
    await member.screenshot({ path: `${SHOTS}/leaderboard-light.png`, fullPage: true });
    await member.emulateMedia({ colorScheme: "dark" });
    await member.reload();
    await expect.poll(() => names(member)).toEqual(["tuned", "baseline", "short"]);
    await member.screenshot({ path: `${SHOTS}/leaderboard-dark.png`, fullPage: true });
    await member.emulateMedia({ colorScheme: "light" });
    await member.setViewportSize({ width: 390, height: 844 });
    await member.reload();
    await expect.poll(() => names(member)).toEqual(["tuned", "baseline", "short"]);
    await member.screenshot({ path: `${SHOTS}/leaderboard-390.png`, fullPage: true });
    await member.goto(projectUrl);
    await expect(member.getByRole("checkbox", { name: "Select tuned to compare" })).toBeVisible();
    await member.screenshot({ path: `${SHOTS}/project-390.png`, fullPage: true });
  }
  await member.setViewportSize({ width: 390, height: 844 });
  await member.goto(`${projectUrl}/leaderboard`);
  await expect.poll(() => names(member)).toEqual(["short", "tuned", "baseline"]);
  expect(await member.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  await Promise.all([admin.close(), member.context().close()]);
});
