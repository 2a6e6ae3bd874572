/// <reference lib="dom" />
import { ADMIN, FROM_DASHBOARD, expect, seedTeam, test } from "./helpers";
import type { Page } from "@playwright/test";

// A newcomer's first hour (issue 16): the simple form's defaults train on the quickstart's demo
// set, and each defect found on the way has a check here. The e2e worker reports the demo set
// (shapes/data.yaml, made by make_dataset.py in its DATASETS_DIR, as the quickstart does).

/** The page scrolls sideways when its content is wider than the window. */
async function expectNoHorizontalScroll(page: Page, what: string) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, `${what}: page width ${scroll} px in a ${client} px window`).toBeLessThanOrEqual(client);
}

async function submitThroughApi(page: Page, projectId: string, config: unknown, name?: string) {
  const res = await page.request.post(`/api/v1/projects/${projectId}/jobs`, { data: { name, config }, headers: FROM_DASHBOARD });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).job as { id: string; name: string };
}

test("no stale 'Invalid email or password' after a successful sign-in", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Invalid email or password")).toBeVisible();
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/signin/);
  await expect(page.getByText("Invalid email or password")).toHaveCount(0);
});

test("the simple form's defaults succeed on the demo set with a rising mAP; titles, widths, clone", async ({ browser }) => {
  const stamp = `fh${Date.now().toString(36)}`;
  const { projectUrl, project, team, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  await member.goto(projectUrl);
  await expect(member).toHaveTitle(`Shapes · Team ${stamp} · Wyolo`);
  await member.getByRole("button", { name: "New training job" }).click();

  // The defaults: what the worker reported. Nothing is typed.
  await expect(member.getByLabel("Dataset", { exact: true }), "the worker reports shapes/data.yaml under its DATASETS_DIR").toHaveValue(
    "shapes/data.yaml",
  );
  await expect(member.getByLabel("Dataset path")).toHaveValue("shapes/data.yaml");
  await expect(member.getByLabel("Model")).toHaveValue("yolo11n.yaml");
  await expect(member.getByLabel("Image size")).toHaveValue("128");
  await member.screenshot({ path: test.info().outputPath("first-hour-form.png"), fullPage: true });
  await member.getByRole("button", { name: "Submit job" }).click();
  await expect(member).toHaveURL(/\/jobs\/[a-z0-9]+$/);
  const jobId = new URL(member.url()).pathname.split("/").pop()!;
  await expect(member.getByTestId("job-status").first()).toHaveText(/SUCCEEDED/, { timeout: 60_000 });

  // A learning curve: mAP50-95 rises from the first epoch to the last.
  const { epochs } = await (await member.request.get(`/api/v1/jobs/${jobId}/metrics`)).json();
  const map = (epochs as { metrics: Record<string, number> }[]).map((e) => e.metrics["metrics/mAP50-95(B)"]!);
  expect(map.length).toBeGreaterThan(2);
  expect(map.at(-1)!).toBeGreaterThan(map[0]!);

  // Tab titles: job, project and team pages each say which they are.
  const jobName = (await member.getByRole("heading", { level: 1 }).textContent())!;
  await expect(member).toHaveTitle(`${jobName} · Shapes · Team ${stamp} · Wyolo`);

  // The job page at phone and tablet widths: nothing wider than the window (log, artifacts, cards).
  await expect(member.getByRole("list", { name: "Artifacts" })).toContainText("weights/best.pt");
  for (const width of [390, 768]) {
    await member.setViewportSize({ width, height: 900 });
    await member.reload();
    await expect(member.getByTestId("job-status").first()).toHaveText(/SUCCEEDED/);
    await expectNoHorizontalScroll(member, `job page at ${width} px`);
    for (const link of await member.getByRole("link", { name: /^Download / }).all()) {
      const box = (await link.boundingBox())!;
      expect(box.x + box.width, "a Download button inside the window").toBeLessThanOrEqual(width);
    }
  }
  await member.screenshot({ path: test.info().outputPath("first-hour-job-768.png"), fullPage: true });
  await member.setViewportSize({ width: 1280, height: 900 });

  // Export: the image size field shows the training size it defaults to.
  await expect(member.getByLabel("Image size (optional)")).toHaveAttribute("placeholder", "128");
  await expect(member.getByText("Empty: the training size, 128")).toBeVisible();

  // A clone of a job named by its config's task_id gets a name of its own.
  const named = await submitThroughApi(
    member,
    project.id,
    "task_id: first-run\nmodel: yolo11n.yaml\ntrain:\n  data: shapes/data.yaml\n  epochs: 2\n",
  );
  expect(named.name).toBe("first-run");
  await member.goto(`${projectUrl}/jobs/${named.id}`);
  await member.getByRole("button", { name: "Clone and edit" }).click();
  const editor = member.getByLabel("Config (YAML)");
  await expect(editor).toContainText("data: shapes/data.yaml");
  await expect(editor).not.toContainText("task_id");
  await member.getByRole("button", { name: "Submit job" }).click();
  await expect(member.getByText(/Job “.*” queued/)).toBeVisible();
  const { jobs } = await (await member.request.get(`/api/v1/projects/${project.id}/jobs?limit=5`)).json();
  const names = (jobs as { name: string }[]).map((j) => j.name);
  expect(names.filter((n) => n === "first-run")).toHaveLength(1);
  expect(names.filter((n) => n === "yolo11n · shapes")).toHaveLength(2);

  await member.goto(`/t/${team.slug}`);
  const teamTitle = await member.title();
  expect(new Set([teamTitle, `Shapes · Team ${stamp} · Wyolo`, `${jobName} · Shapes · Team ${stamp} · Wyolo`]).size).toBe(3);
  await Promise.all([admin.close(), member.context().close()]);
});

test("an empty dataset path is highlighted with its message, and focused", async ({ browser }) => {
  const stamp = `fe${Date.now().toString(36)}`;
  const { projectUrl, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  await member.goto(projectUrl);
  await member.getByRole("button", { name: "New training job" }).click();
  await member.getByLabel("Dataset", { exact: true }).selectOption({ label: "Another path…" });
  const path = member.getByLabel("Dataset path");
  await expect(path).toHaveValue("");
  await expect(path).not.toHaveAttribute("aria-invalid", "true");
  await member.getByRole("button", { name: "Submit job" }).click();
  await expect(member.getByText("Fix the highlighted fields first")).toBeVisible();
  await expect(path).toHaveAttribute("aria-invalid", "true");
  await expect(path).toBeFocused();
  await expect(member.locator("#job-data-error")).toHaveText(/.+/);
  await member.screenshot({ path: test.info().outputPath("first-hour-empty-field.png") });
  await Promise.all([admin.close(), member.context().close()]);
});

test("YAML errors show inline at their line in the code editor", async ({ browser }) => {
  const stamp = `fy${Date.now().toString(36)}`;
  const { projectUrl, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  await member.goto(projectUrl);
  await member.getByRole("button", { name: "New training job" }).click();
  await member.getByRole("button", { name: "Advanced (YAML)" }).click();
  const editor = member.getByLabel("Config (YAML)");
  await editor.fill("model: yolo11n.yaml\ntrain:\n  data: shapes/data.yaml\n  epochs: -3\n  imgsz: 128\n");
  // The underline sits on line 4 (epochs), the list names the line.
  const underlined = member.locator(".cm-lintRange-error");
  await expect(underlined).toHaveCount(1);
  await expect(underlined).toHaveText("epochs: -3");
  await expect(member.locator(".cm-line").nth(3)).toContainText("epochs: -3");
  await expect(member.getByRole("list", { name: "Config issues" })).toContainText(/line 4 · train\.epochs: /);
  await expect(member.getByRole("button", { name: "Submit job" })).toBeDisabled();
  for (const scheme of ["light", "dark"] as const) {
    await member.emulateMedia({ colorScheme: scheme });
    await member.screenshot({ path: test.info().outputPath(`first-hour-yaml-${scheme}.png`), fullPage: true });
  }
  await member.emulateMedia({ colorScheme: "light" });
  // Fixed, the mark goes and the check line says what will run.
  await editor.fill("model: yolo11n.yaml\ntrain:\n  data: shapes/data.yaml\n  epochs: 3\n  imgsz: 128\n");
  await expect(underlined).toHaveCount(0);
  await expect(member.getByText(/✓ Valid: yolo11n.yaml · detect · 3 epochs/)).toBeVisible();
  await Promise.all([admin.close(), member.context().close()]);
});

test("Cancel asks in a dialog (not window.confirm), and 'Keep it' keeps the job running", async ({ browser }) => {
  const stamp = `fc${Date.now().toString(36)}`;
  const { project, pages, admin, projectUrl } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  member.on("dialog", (d) => {
    throw new Error(`a browser dialog opened: ${d.message()}`);
  });
  const job = await submitThroughApi(member, project.id, {
    model: "yolo11n.yaml",
    train: { data: "shapes/data.yaml", epochs: 100 },
    metadata: { fake: { delayMs: 1000 } },
  });
  await member.goto(`${projectUrl}/jobs/${job.id}`);
  await expect(member.getByTestId("progress-label")).toHaveText(/^epoch \d+\/100 · ETA/, { timeout: 20_000 });
  await member.getByRole("button", { name: "Cancel" }).click();
  const dialog = member.getByRole("dialog", { name: "Cancel this job?" });
  await expect(dialog).toBeVisible();
  await member.screenshot({ path: test.info().outputPath("first-hour-cancel-dialog.png") });
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toBeHidden();
  await expect(member.getByTestId("job-status").first()).toHaveText(/RUNNING/);
  await member.getByRole("button", { name: "Cancel" }).click();
  await dialog.getByRole("button", { name: "Cancel job" }).click();
  await expect(member.getByTestId("job-status").first()).toHaveText(/CANCELLED/, { timeout: 15_000 });
  await Promise.all([admin.close(), member.context().close()]);
});

test("a failed job with long names and lines fits a phone; the header is one row; light and dark", async ({ browser }) => {
  const stamp = `fw${Date.now().toString(36)}`;
  const { project, pages, admin, projectUrl } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  const long = `run-${"x".repeat(110)}`;
  const job = await submitThroughApi(
    member,
    project.id,
    {
      model: "yolo11n.yaml",
      train: { data: `${"d".repeat(200)}/data.yaml`, epochs: 3 },
      metadata: { fake: { failAtEpoch: 2, spamLines: 3 } },
    },
    long,
  );
  await member.setViewportSize({ width: 390, height: 844 });
  await member.goto(`${projectUrl}/jobs/${job.id}`);
  await expect(member.getByTestId("job-status").first()).toHaveText(/FAILED/, { timeout: 30_000 });
  await expectNoHorizontalScroll(member, "failed job page at 390 px");
  for (const scheme of ["light", "dark"] as const) {
    await member.emulateMedia({ colorScheme: scheme });
    await member.screenshot({ path: test.info().outputPath(`first-hour-390-${scheme}.png`), fullPage: true });
  }
  // The header's links stay on one row (they scroll inside it on a narrow phone).
  const header = (await member.locator("header").boundingBox())!;
  expect(header.height, "the header is one row").toBeLessThan(80);
  await Promise.all([admin.close(), member.context().close()]);
});
