/// <reference lib="dom" />
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, seedTeam, test } from "./helpers";

// Datasets in the browser (issue 13): upload a zip straight to the object store (s3rver) in
// presigned parts, watch the worker validate it, read its report, statistics and preview, and
// train from the version through the form's picker. A folder upload, zipped in the page, resumes
// after a reload without sending again the part that was stored.

const SHOTS = process.env.DATASET_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there

/** A synthetic detect set (make_dataset.py, as the quickstart's demo) in `dir/shapes`, and its zip. */
function makeDataset(dir: string, extraBytes = 0): { folder: string; zip: string } {
  mkdirSync(dir, { recursive: true });
  const folder = path.join(dir, "shapes");
  execFileSync("python3", ["apps/worker/trainer/make_dataset.py", "detect", folder, "--train", "8", "--val", "4"]);
  // Incompressible bytes in a label-less file: an archive of more than one 16 MiB part.
  if (extraBytes) appendFileSync(path.join(folder, "notes.bin"), randomBytes(extraBytes));
  const zip = path.join(dir, "shapes.zip");
  execFileSync("python3", ["-m", "zipfile", "-c", zip, folder]);
  return { folder, zip };
}

async function openNewDataset(page: Page, teamSlug: string, name: string) {
  await page.goto(`/t/${teamSlug}`);
  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Datasets" }).click();
  await expect(page).toHaveURL(`/t/${teamSlug}/datasets`);
  await page.getByRole("button", { name: "New dataset" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create dataset" }).click();
  await expect(page).toHaveURL(`/t/${teamSlug}/datasets/${name}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

/** Opens a tab of the version and waits for what it draws (the preview's first image, a chart). */
async function showTab(page: Page, name: string) {
  const tab = page.getByRole("tab", { name });
  await tab.click();
  await expect(tab).toHaveAttribute("aria-selected", "true");
  if (name === "Preview")
    await expect(page.getByRole("list", { name: "Images" }).getByRole("img").first()).toHaveAttribute("data-shapes", /^[1-9]/);
  if (name === "Statistics") await expect(page.getByRole("img", { name: /^Images per split/ })).toBeVisible();
}

/** The page scrolls sideways when its content is wider than the window. */
async function expectNoHorizontalScroll(page: Page, what: string) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, `${what}: page width ${scroll} px in a ${client} px window`).toBeLessThanOrEqual(client);
}

test("upload a zip, watch it validate, read its report, stats and preview, train from it", async ({ browser }) => {
  test.setTimeout(180_000);
  const stamp = `ds${Date.now().toString(36)}`;
  const { team, projectUrl, pages } = await seedTeam(browser, stamp, ["MEMBER", "VIEWER"]);
  const [member, viewer] = pages as [Page, Page];
  const { zip } = makeDataset(test.info().outputPath("set"));

  await openNewDataset(member, team.slug, "shapes");
  await expect(member.getByText("No versions yet")).toBeVisible();

  // The zip goes to the object store in presigned parts, never through the web app.
  const puts: string[] = [];
  member.on("request", (r) => r.method() === "PUT" && puts.push(new URL(r.url()).origin));
  await member.getByLabel("Dataset archive").setInputFiles(zip);
  const versions = member.getByRole("list", { name: "Versions" });
  await expect(versions.getByRole("button", { name: /^v1/ })).toBeVisible();
  // Live: UPLOADING → VALIDATING → READY through the dataset's socket room, no reload.
  await expect(member.getByTestId("version-status").first()).toHaveText("READY", { timeout: 90_000 });
  expect(puts.length, "the archive was PUT to the object store").toBeGreaterThan(0);
  expect(new Set(puts), "straight to the object store, not the web app").not.toContain(new URL(member.url()).origin);
  await expect(member.getByTestId("version-ref")).toHaveText("dataset:shapes@v1");

  // Report: valid, no errors.
  await expect(member.getByRole("tab", { name: "Report" })).toHaveAttribute("aria-selected", "true");
  await expect(member.getByTestId("report-summary")).toContainText("Valid");
  await expect(member.getByTestId("report-summary")).toContainText("0 errors");

  // Statistics: 8 train and 4 val images; instances of the three classes.
  await member.getByRole("tab", { name: "Statistics" }).click();
  await expect(member).toHaveURL(/tab=stats/);
  await expect(member.getByRole("img", { name: /^Images per split: train 8, val 4/ })).toBeVisible();
  await expect(member.getByRole("img", { name: /^Instances per class: circle \d+/ })).toBeVisible();
  await expect(member.getByRole("img", { name: /^Box size/ })).toBeVisible();

  // Preview: 12 images, each drawn with its boxes on a canvas; filter by class.
  await member.getByRole("tab", { name: "Preview" }).click();
  const images = member.getByRole("list", { name: "Images" });
  await expect(images.getByRole("img")).toHaveCount(12);
  const first = images.getByRole("img").first();
  await expect(first).toHaveAttribute("aria-label", /\.png: \d+ (circle|square|triangle)/);
  // Drawn: one box per label once the image has loaded (the canvas counts what it painted).
  const labelled = [...((await first.getAttribute("aria-label")) ?? "").matchAll(/(\d+) (circle|square|triangle)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  expect(labelled).toBeGreaterThan(0);
  await expect(first).toHaveAttribute("data-shapes", String(labelled));
  await member.getByLabel("Class").selectOption({ label: "0: circle" });
  await expect(images.getByRole("img").first()).toHaveAttribute("aria-label", /circle/);
  for (const img of await images.getByRole("img").all()) await expect(img).toHaveAttribute("aria-label", /circle/);
  await member.getByLabel("Has errors").check();
  await expect(member.getByText("No images match")).toBeVisible();
  await member.getByLabel("Has errors").uncheck();
  await member.getByLabel("Class").selectOption({ label: "All classes" });
  await images.getByRole("button").first().click();
  await expect(member.getByRole("dialog").getByRole("img")).toHaveAttribute("aria-label", /\.png: /);
  if (SHOTS) await member.screenshot({ path: `${SHOTS}/dataset-preview-open-light.png` });
  await member.keyboard.press("Escape");

  if (SHOTS) {
    await member.setViewportSize({ width: 1280, height: 1000 });
    for (const scheme of ["light", "dark"] as const) {
      await member.emulateMedia({ colorScheme: scheme });
      for (const tab of ["Preview", "Statistics", "Report"]) {
        await showTab(member, tab);
        await member.screenshot({ path: `${SHOTS}/dataset-${tab.toLowerCase()}-${scheme}.png`, fullPage: true });
      }
    }
    await member.emulateMedia({ colorScheme: "light" });
  }
  for (const width of [390, 768]) {
    await member.setViewportSize({ width, height: 900 });
    for (const tab of ["Preview", "Statistics", "Report"]) {
      await showTab(member, tab);
      await expectNoHorizontalScroll(member, `dataset page, ${tab}, at ${width} px`);
      if (SHOTS && width === 390) await member.screenshot({ path: `${SHOTS}/dataset-${tab.toLowerCase()}-390.png`, fullPage: true });
    }
  }
  await member.setViewportSize({ width: 1280, height: 900 });

  // A viewer reads it all but has no upload area.
  await viewer.goto(`/t/${team.slug}/datasets/shapes?v=1&tab=stats`);
  await expect(viewer.getByRole("img", { name: /^Images per split/ })).toBeVisible();
  await expect(viewer.getByLabel("Dataset archive")).toHaveCount(0);

  // Train from the version through the form's picker; the job page says which version.
  await member.goto(projectUrl);
  await member.getByRole("button", { name: "New training job" }).click();
  await member.getByLabel("Dataset", { exact: true }).selectOption("dataset:shapes@v1");
  await member.getByRole("button", { name: "Submit job" }).click();
  await expect(member).toHaveURL(/\/jobs\/[a-z0-9]+$/);
  const jobName = (await member.getByRole("heading", { level: 1 }).textContent())!;
  await expect(member.getByTestId("job-dataset")).toHaveText("shapes@v1");
  await member.getByTestId("job-dataset").click();
  await expect(member).toHaveURL(new RegExp(`/t/${team.slug}/datasets/shapes\\?v=1`));
  await member.getByRole("tab", { name: /^Jobs/ }).click();
  await expect(member.getByRole("list", { name: "Jobs that used this version" })).toContainText(jobName);
});

test("a folder zipped in the page; a failed part resumes after a reload without sending the stored one again; cancel", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const stamp = `dsr${Date.now().toString(36)}`;
  const { team, pages } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  const { folder } = makeDataset(test.info().outputPath("set"), 17 * 1024 * 1024);
  await openNewDataset(member, team.slug, "big");

  // Part 2 cannot reach the object store (as if the connection dropped), part 1 can.
  const isPart = (url: URL, n: number) => url.searchParams.has("uploadId") && url.searchParams.get("partNumber") === String(n);
  const sent: number[] = [];
  member.on("requestfinished", (r) => {
    const url = new URL(r.url());
    if (r.method() === "PUT" && url.searchParams.has("uploadId")) sent.push(Number(url.searchParams.get("partNumber")));
  });
  const part2 = (url: URL) => isPart(url, 2);
  await member.route(part2, (route) => route.abort("connectionreset"));
  await member.locator("input[webkitdirectory]").first().setInputFiles(folder);
  await expect(member.getByRole("alert").filter({ hasText: "The upload of shapes.zip failed" })).toBeVisible({ timeout: 60_000 });
  expect(sent).toContain(1);
  expect(sent).not.toContain(2);
  await member.unroute(part2);

  // After a reload the page remembers the upload; the same folder picked again sends only part 2.
  await member.reload();
  const interrupted = member.getByRole("list", { name: "Interrupted uploads" });
  await expect(interrupted).toContainText("shapes.zip");
  sent.length = 0;
  await interrupted.locator("input[webkitdirectory]").setInputFiles(folder);
  await expect(member.getByTestId("version-status").first()).toHaveText(/VALIDATING|READY|INVALID/, { timeout: 60_000 });
  expect(sent, "only the missing part was sent").toEqual([2]);
  await expect(interrupted).toHaveCount(0);

  // Cancel: an upload stopped mid-way leaves no version behind.
  await member.route(part2, (route) => setTimeout(() => void route.abort().catch(() => {}), 30_000));
  await member.locator("input[webkitdirectory]").first().setInputFiles(folder);
  await expect(member.getByRole("progressbar", { name: "Upload progress" })).toBeVisible();
  await expect(member.getByRole("list", { name: "Versions" }).getByRole("button", { name: /^v2/ })).toBeVisible();
  await member.getByRole("button", { name: "Cancel upload" }).first().click();
  await expect(member.getByRole("list", { name: "Versions" }).getByRole("button", { name: /^v2/ })).toHaveCount(0);
  await expect(member.getByRole("progressbar", { name: "Upload progress" })).toHaveCount(0);
});
