import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { FROM_DASHBOARD, expect, seedTeam, test } from "./helpers";

test("a MEMBER submits a job and watches it live to SUCCEEDED; a VIEWER watches the same page without buttons", async ({ browser }) => {
  const stamp = Date.now().toString(36);
  const { projectUrl, pages, admin } = await seedTeam(browser, stamp, ["MEMBER", "VIEWER"]);
  const [member, viewer] = pages as [(typeof pages)[0], (typeof pages)[0]];

  await member.goto(projectUrl);
  await expect(member.getByText("No training jobs yet")).toBeVisible();
  await member.getByRole("button", { name: "New training job" }).click();
  await member.getByLabel("Job name (optional)").fill("e2e shapes");
  await member.getByLabel("Dataset path").fill("shapes/data.yaml");
  await member.getByLabel("Epochs").fill("6");
  await member.getByLabel("Image size").fill("100");
  await expect(member.getByText("Must be a multiple of 32")).toBeVisible();
  await member.getByLabel("Image size").fill("128");
  // The YAML editor validates as you type; the fixture trainer reads its pace from metadata.
  await member.getByRole("button", { name: "Advanced (YAML)" }).click();
  const yaml = member.getByLabel("Config (YAML)");
  await yaml.fill(`${await yaml.innerText()}\nmetadata:\n  fake:\n    delayMs: 3000\n`);
  await expect(member.getByText(/✓ Valid: yolo11n.yaml · detect · 6 epochs/)).toBeVisible();
  await member.getByRole("button", { name: "Submit job" }).click();
  await expect(member).toHaveURL(/\/jobs\/[a-z0-9]+$/);
  const jobUrl = new URL(member.url()).pathname;

  // The viewer opens the same page while the job runs.
  await viewer.goto(jobUrl);
  await expect(viewer.getByRole("heading", { name: "e2e shapes" })).toBeVisible();

  for (const page of [member, viewer])
    await expect(page.getByTestId("progress-label")).toHaveText(/epoch [1-5]\/6 · ETA/, { timeout: 20_000 });
  await expect(member.getByRole("button", { name: "Cancel" })).toBeVisible();
  await expect(member.getByLabel("Training log")).toContainText("epoch 1/6 done");

  for (const page of [member, viewer]) {
    await expect(page.getByTestId("job-status").first()).toHaveText(/SUCCEEDED/, { timeout: 30_000 });
    await expect(page.getByTestId("progress-label")).toHaveText("epoch 6/6");
    await expect(page.getByRole("img", { name: /Validation metrics: .*over 6 epochs/ })).toBeVisible();
  }
  await expect(member.getByRole("list", { name: "Status timeline" })).toContainText("Finished");
  await expect(member.getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(member.getByRole("button", { name: "Clone and edit" })).toBeVisible();
  for (const name of ["Cancel", "Retry", "Clone and edit"]) await expect(viewer.getByRole("button", { name })).toHaveCount(0);

  // Artifacts: the member and the viewer download best.pt; its bytes match the recorded sha256.
  const jobId = jobUrl.split("/").pop()!;
  const { artifacts } = await (await member.request.get(`/api/v1/jobs/${jobId}/artifacts`)).json();
  const best = artifacts.find((a: { name: string }) => a.name === "weights/best.pt");
  for (const page of [member, viewer]) {
    await expect(page.getByRole("list", { name: "Artifacts" })).toContainText("weights/best.pt");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download weights/best.pt" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("shapes-e2e-shapes-best.pt");
    const bytes = readFileSync((await download.path())!);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(best.sha256);
  }
  // A user of another team gets 404 for the same link.
  const other = await seedTeam(browser, `o${stamp}`, ["MEMBER"]);
  expect((await other.pages[0]!.request.get(`/api/v1/jobs/${jobId}/artifacts/${best.id}/download`, { maxRedirects: 0 })).status()).toBe(
    404,
  );
  await Promise.all([other.admin.close(), other.pages[0]!.context().close()]);

  // Export: the member exports best.pt to ONNX and follows it live; the file downloads from
  // the export list and is the exporter's output of this job's best.pt. The viewer sees the
  // export but has no form to ask for one.
  const exportForm = member.getByRole("form", { name: "Export the model" });
  await exportForm.getByRole("button", { name: "Export" }).click();
  await expect(exportForm.getByText("Choose a format")).toBeVisible();
  await exportForm.getByLabel("Format").selectOption({ label: "ONNX" });
  await exportForm.getByLabel("Image size (optional)").fill("100");
  await exportForm.getByRole("button", { name: "Export" }).click();
  await expect(exportForm.getByText("A multiple of 32")).toBeVisible();
  await exportForm.getByLabel("Image size (optional)").fill("128");
  await exportForm.getByLabel("Dynamic shapes").check();
  await exportForm.getByRole("button", { name: "Export" }).click();
  const exportsList = member.getByRole("list", { name: "Exports" });
  await expect(exportsList).toContainText("ONNX");
  await expect(exportsList.getByTestId("job-status")).toHaveText(/SUCCEEDED/, { timeout: 30_000 });
  const [exported] = await Promise.all([
    member.waitForEvent("download"),
    member.getByRole("link", { name: "Download the ONNX export" }).click(),
  ]);
  expect(exported.suggestedFilename()).toBe("shapes-e2e-shapes-best.onnx");
  expect(readFileSync((await exported.path())!, "utf8")).toContain(`FAKE-EXPORT onnx of ${best.sha256}`);
  await expect(member.getByRole("list", { name: "Artifacts" })).toContainText("exports/onnx-dynamic-128/best.onnx");
  await viewer.reload();
  await expect(viewer.getByRole("list", { name: "Exports" })).toContainText("ONNX");
  await expect(viewer.getByRole("form", { name: "Export the model" })).toHaveCount(0);
  // The Workers page says what the worker can export.
  await viewer.goto("/workers");
  await expect(viewer.getByRole("heading", { name: "e2e-worker" })).toBeVisible();
  await expect(viewer.getByText("Exports: torchscript, onnx")).toHaveCount(1);
  await viewer.screenshot({ path: "test-results/workers-page.png" });
  await viewer.goto(jobUrl);

  // Clone and edit: the project page opens the YAML editor with this job's config, above a
  // job table that already has rows (a render loop once hid here).
  await member.getByRole("button", { name: "Clone and edit" }).click();
  await expect(member.getByLabel("Config (YAML)")).toContainText("data: shapes/data.yaml");
  await expect(member.getByText(/✓ Valid: yolo11n.yaml · detect · 6 epochs/)).toBeVisible();
  await expect(member.getByRole("row").filter({ hasText: "e2e shapes", hasNotText: "from e2e shapes" })).toBeVisible();

  // Fine-tune from this job: the form starts from its best.pt (model: job:<id>/best.pt); the new
  // job trains from the weights the worker fetched from the object store.
  await member.goto(jobUrl);
  await member.getByRole("button", { name: "Fine-tune from this job" }).click();
  const fineTune = member.getByRole("region", { name: "Fine-tune from this job" });
  await expect(fineTune.getByLabel("Start from")).toHaveValue("best.pt");
  await expect(fineTune.getByText(`model: job:${jobId}/best.pt`)).toBeVisible();
  await fineTune.getByLabel("Dataset path").fill("shapes/data.yaml");
  await fineTune.getByLabel("Epochs").fill("2");
  await fineTune.getByLabel("Image size").fill("128");
  await member.screenshot({ path: "test-results/fine-tune-form.png", fullPage: true });
  await fineTune.getByRole("button", { name: "Submit job" }).click();
  await expect(member).toHaveURL((url) => /\/jobs\/[a-z0-9]+$/.test(url.pathname) && url.pathname !== jobUrl);
  await expect(member.getByTestId("job-status").first()).toHaveText(/SUCCEEDED/, { timeout: 30_000 });
  await expect(member.getByLabel("Training log")).toContainText(`job:${jobId}/best.pt sha256 ${best.sha256}`);

  // The project's job table got there live as well.
  await viewer.goto(projectUrl);
  const row = viewer.getByRole("row").filter({ hasText: "e2e shapes", hasNotText: "from e2e shapes" });
  await expect(row.getByTestId("job-status")).toHaveText(/SUCCEEDED/);
  await expect(viewer.getByRole("button", { name: "New training job" })).toHaveCount(0);

  await Promise.all([admin.close(), member.context().close(), viewer.context().close()]);
});

test("a MEMBER cancels their running job from the job page", async ({ browser }) => {
  const stamp = `c${Date.now().toString(36)}`;
  const { project, pages, admin } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  const res = await member.request.post(`/api/v1/projects/${project.id}/jobs`, {
    data: {
      name: "long one",
      config: { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 100 }, metadata: { fake: { delayMs: 400 } } },
    },
    headers: FROM_DASHBOARD,
  });
  expect(res.status()).toBe(201);
  const { job } = await res.json();
  await member.goto(`/t/team-${stamp}/p/shapes/jobs/${job.id}`);
  await expect(member.getByTestId("progress-label")).toHaveText(/epoch [1-9]\/100/, { timeout: 20_000 });
  await member.getByRole("button", { name: "Cancel" }).click();
  await member.getByRole("dialog", { name: "Cancel this job?" }).getByRole("button", { name: "Cancel job" }).click();
  await expect(member.getByTestId("job-status").first()).toHaveText(/CANCELLED/, { timeout: 15_000 });
  await expect(member.getByRole("list", { name: "Status timeline" })).toContainText("epoch boundary");
  await Promise.all([admin.close(), member.context().close()]);
});
