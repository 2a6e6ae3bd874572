import { expect, seedTeam, test } from "./helpers";

// Trials run the fixture trainer's stand-in curve (metadata.standin: a learning curve of the
// sampled arguments), so Optuna's successive halving really prunes within a few epochs.
test("a MEMBER starts a sweep from the form, watches trials arrive and get pruned live, and trains the best; a VIEWER sees it without buttons", async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const stamp = `s${Date.now().toString(36)}`;
  const { projectUrl, pages, admin } = await seedTeam(browser, stamp, ["MEMBER", "VIEWER"]);
  const [member, viewer] = pages as [(typeof pages)[0], (typeof pages)[0]];

  await member.goto(projectUrl);
  await expect(member.getByText("No sweeps yet")).toBeVisible();
  await member.getByRole("button", { name: "New sweep" }).click();
  const form = member.getByRole("form", { name: "New sweep" });
  await expect(form.getByRole("tab", { name: "Sweep" })).toHaveAttribute("aria-selected", "true");
  await form.getByLabel("Sweep name (optional)").fill("e2e sweep");
  await form.getByLabel("Dataset path", { exact: true }).fill("shapes/data.yaml");
  await form.getByLabel("Epochs", { exact: true }).fill("4");
  await form.getByLabel("Image size", { exact: true }).fill("128");
  // Client-side checks put the parser's messages on the fields.
  await form.getByLabel("Trials", { exact: true }).fill("0");
  await expect(form.getByText("At least 1", { exact: true })).toBeVisible();
  await form.getByLabel("Trials", { exact: true }).fill("6");
  await form.getByLabel("Parallel", { exact: true }).fill("2");
  await form.getByLabel("Pruner", { exact: true }).selectOption("successive_halving");
  await form.getByLabel("Grace period", { exact: true }).fill("1");
  // The search space starts as Ultralytics' own; a bad bound is flagged on its row.
  const lr0 = form.getByRole("listitem", { name: "lr0" });
  await expect(lr0.getByLabel("Low")).toHaveValue("0.00001");
  await lr0.getByLabel("High").fill("0.000001");
  await expect(lr0.getByRole("alert")).toContainText("`high` must be greater than `low`");
  await lr0.getByLabel("High").fill("0.1");
  await expect(lr0.getByRole("alert")).toHaveCount(0);
  await form.getByRole("button", { name: "Remove cutmix" }).click();
  await expect(form.getByRole("listitem", { name: "cutmix" })).toHaveCount(0);
  await form.getByRole("button", { name: "Reset to Ultralytics’ space" }).click();
  await expect(form.getByRole("listitem", { name: "cutmix" })).toHaveCount(1);

  // The Advanced (YAML) view carries the sweeper block; the fixture trainer reads its curve and pace from metadata.
  await form.getByRole("button", { name: "Advanced (YAML)" }).click();
  // A code editor (CodeMirror, which renders only the lines in view): the sweeper block opens the
  // text; the metadata block is typed at its end as it is (insertText: no auto-indent).
  const yaml = form.getByLabel("Config (YAML)");
  await expect(yaml).toContainText("tune: true");
  expect(await yaml.innerText()).toMatch(/sweeper:\n {2}tune: true\n {2}n_trials: 6/);
  await yaml.click();
  await member.keyboard.press("Control+End");
  await member.keyboard.insertText("metadata:\n  standin: true\n  fake:\n    delayMs: 700\n");
  await expect(
    form.getByText("✓ Valid sweep: yolo11n.yaml · detect · 6 trials of 4 epochs · TPESampler · successive_halving pruner"),
  ).toBeVisible();
  await form.getByRole("button", { name: "Start sweep" }).click();
  await expect(member).toHaveURL(/\/sweeps\/[a-z0-9]+$/);
  const sweepUrl = new URL(member.url()).pathname;
  await expect(member).toHaveTitle("e2e sweep · Sweep · Wyolo");
  await viewer.goto(sweepUrl);
  await expect(viewer.getByRole("heading", { name: "e2e sweep" })).toBeVisible();

  // Trials arrive, run two at a time, and some are pruned: both pages follow live.
  for (const page of [member, viewer]) {
    const trials = page.getByRole("table", { name: "Trials" });
    await expect(trials.locator("tr[data-trial]").first()).toBeVisible({ timeout: 30_000 });
    await expect(trials.locator('tr[data-state="PRUNED"]').first()).toBeVisible({ timeout: 90_000 });
    await expect(trials.locator('tr[data-state="PRUNED"]').first().getByTestId("trial-state")).toHaveText(/PRUNED.*epoch [1-3]/);
  }
  await expect(member.getByTestId("progress-label")).toHaveText(/\d\/6 trials/);
  for (const page of [member, viewer]) {
    await expect(page.getByTestId("sweep-status")).toHaveText("COMPLETED", { timeout: 120_000 });
    await expect(page.getByTestId("progress-label")).toHaveText(/^6\/6 trials · [1-5] pruned$/);
    await expect(page.locator("tr[data-trial]")).toHaveCount(6);
    await expect(page.locator('tr[aria-current="true"]')).toHaveCount(1);
    await expect(page.getByTestId("sweep-best")).toHaveText(/^0\.\d{4}$/);
    await expect(page.getByRole("img", { name: /^Optimization history: .* of 6 finished trials/ })).toBeVisible();
    await expect(page.getByRole("img", { name: /^Intermediate values: .* of 6 trials, [1-5] pruned/ })).toBeVisible();
    await expect(page.getByRole("img", { name: /^Parallel coordinates: \d+ parameters of \d trials against fitness/ })).toBeVisible();
  }
  // Sorting by value puts the best trial first (maximize: descending).
  await member.getByRole("button", { name: "Value" }).click();
  await expect(member.locator("tr[data-trial]").first()).toHaveAttribute("aria-current", "true");

  // The viewer sees everything but no buttons; the server refuses the actions anyway.
  for (const name of ["Train the best", "Add trials", "Cancel"]) await expect(viewer.getByRole("button", { name })).toHaveCount(0);
  const sweepId = sweepUrl.split("/").pop()!;
  expect(
    (await viewer.request.post(`/api/v1/sweeps/${sweepId}/train-best`, { headers: { Origin: new URL(viewer.url()).origin } })).status(),
  ).toBe(403);

  // The project page lists the sweep with its progress and best value.
  await viewer.goto(projectUrl);
  const row = viewer.getByRole("table", { name: "Sweeps" }).getByRole("row").filter({ hasText: "e2e sweep" });
  await expect(row.getByTestId("sweep-status")).toHaveText("COMPLETED");
  await expect(row.getByTestId("progress-label")).toHaveText(/^6\/6 trials/);
  await expect(viewer.getByRole("button", { name: "New sweep" })).toHaveCount(0);

  // "Train the best": one click opens the new job, with the best trial's arguments.
  const bestNumber = await member.locator('tr[aria-current="true"]').getAttribute("data-trial");
  await member.getByRole("button", { name: "Train the best" }).click();
  await expect(member).toHaveURL(/\/jobs\/[a-z0-9]+$/);
  await expect(member.getByRole("heading", { name: `e2e sweep · best (#${bestNumber})` })).toBeVisible();
  await expect(member.getByTestId("job-status").first()).toHaveText(/QUEUED|STARTING|RUNNING|SUCCEEDED/);

  await Promise.all([admin.close(), member.context().close(), viewer.context().close()]);
});

test("a MEMBER starts a sweep from the Sweep tab, cancels it through the dialog and adds trials", async ({ browser }) => {
  test.setTimeout(120_000);
  const stamp = `k${Date.now().toString(36)}`;
  const { projectUrl, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  await member.goto(projectUrl);
  await member.getByRole("button", { name: "New training job" }).click();
  await member.getByRole("tab", { name: "Sweep" }).click();
  const form = member.getByRole("form", { name: "New sweep" });
  await form.getByLabel("Sweep name (optional)").fill("long sweep");
  await form.getByLabel("Dataset path", { exact: true }).fill("shapes/data.yaml");
  await form.getByLabel("Epochs", { exact: true }).fill("2000");
  await form.getByLabel("Image size", { exact: true }).fill("128");
  await form.getByLabel("Trials", { exact: true }).fill("2");
  await form.getByLabel("Parallel", { exact: true }).fill("1");
  await form.getByRole("button", { name: "Start sweep" }).click();
  await expect(member).toHaveURL(/\/sweeps\/[a-z0-9]+$/);
  await expect(member.getByTestId("sweep-status")).toHaveText(/RUNNING/, { timeout: 30_000 });
  await expect(member.locator('tr[data-state="RUNNING"]')).toHaveCount(1, { timeout: 30_000 });

  // Cancel asks in a dialog (not the browser's confirm); keeping it changes nothing.
  await member.getByRole("button", { name: "Cancel", exact: true }).click();
  const dialog = member.getByRole("dialog", { name: "Cancel this sweep?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toBeHidden();
  await member.getByRole("button", { name: "Cancel", exact: true }).click();
  await dialog.getByRole("button", { name: "Cancel the sweep" }).click();
  await expect(member.getByTestId("sweep-status")).toHaveText("CANCELLED", { timeout: 30_000 });
  await expect(member.locator('tr[data-state="FAIL"]')).toHaveCount(1);
  await expect(member.getByRole("button", { name: "Cancel", exact: true })).toHaveCount(0);

  // "Add trials" continues the same study: checked on the field, then the sweep runs again.
  await member.getByRole("button", { name: "Add trials" }).click();
  const add = member.getByRole("form", { name: "Add trials" });
  await add.getByLabel("More trials").fill("0");
  await add.getByRole("button", { name: "Add to the study" }).click();
  await expect(add.getByText("At least 1")).toBeVisible();
  await add.getByLabel("More trials").fill("1");
  await add.getByRole("button", { name: "Add to the study" }).click();
  await expect(member.getByTestId("sweep-status")).toHaveText(/RUNNING|QUEUED/, { timeout: 30_000 });
  await expect(member.getByTestId("progress-label")).toHaveText(/\/3 trials/);
  await member.getByRole("button", { name: "Cancel", exact: true }).click();
  await member.getByRole("dialog", { name: "Cancel this sweep?" }).getByRole("button", { name: "Cancel the sweep" }).click();
  await expect(member.getByTestId("sweep-status")).toHaveText("CANCELLED", { timeout: 30_000 });

  await Promise.all([admin.close(), member.context().close()]);
});
