import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Locator, Page } from "@playwright/test";
import pg from "pg";
import { expect, FROM_DASHBOARD, seedTeam, test } from "./helpers";

// The job page of issue 11: charts (validation losses, zoom, log, smoothing, toggles, enlarged view),
// the plots gallery and its lightbox, the per-class table, the resource charts with the input-bound
// hint, and the dataset version in the header. Plots, resource samples and the dataset version are
// put straight into s3rver and Postgres (the fixture trainer writes no images, and a CPU run has no GPU).

const SHOTS = process.env.JOB_PAGE_SCREENSHOTS; // a folder: light, dark and 390 px screenshots go there
const DB_URL = `${(process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres").replace(/\/[^/]*$/, "")}/${process.env.E2E_DATABASE ?? "wyolo_e2e"}`;
const S3_ENDPOINT = `http://127.0.0.1:${process.env.E2E_S3_PORT ?? 4579}`;

/** A small RGB PNG: a gradient with a diagonal band, so a thumbnail shows something. */
function png(width: number, height: number, hue: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const band = Math.abs(x * (height / width) - y) < 6;
      const i = row + 1 + x * 3;
      raw[i] = band ? 30 : (hue + (x * 255) / width) % 256;
      raw[i + 1] = band ? 30 : (y * 255) / height;
      raw[i + 2] = band ? 30 : 200;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PLOTS = ["confusion_matrix.png", "BoxPR_curve.png", "BoxF1_curve.png", "results.png", "labels.jpg", "val_batch0_pred.jpg"];

/** Plots in the store and as artifacts, 20 resource samples of a starved GPU on a busy host, and a dataset version. */
async function seedJobExtras(jobId: string, teamId: string, datasetName: string) {
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  const s3 = new S3Client({
    endpoint: S3_ENDPOINT,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  try {
    for (const [i, name] of PLOTS.entries()) {
      const key = `jobs/${jobId}/plots/${name}`;
      const body = png(480, 360, i * 40);
      await s3.send(new PutObjectCommand({ Bucket: "wyolo-artifacts", Key: key, Body: body }));
      await db.query(
        `INSERT INTO "JobArtifact" (id, "jobId", name, size, sha256, "storageKey", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, now())`,
        [`e2e${randomBytes(8).toString("hex")}`, jobId, name, body.length, "0".repeat(64), key],
      );
    }
    const start = Date.now() - 300_000;
    for (let i = 0; i < 20; i++)
      await db.query(
        `INSERT INTO "JobResourceSample" ("jobId", at, "spanSeconds", "cpuPercent", "rssBytes", "hostCpuPercent", "gpuUtil", "gpuMemUsedMb", gpus)
         VALUES ($1, $2, 10, 780, $3, $4, $5, 3100, $6)`,
        [
          jobId,
          new Date(start + i * 10_000),
          String(2_400_000_000 + i * 10_000_000),
          93 + (i % 3),
          18 + (i % 5),
          JSON.stringify([{ index: 0, util: 18 + (i % 5), memUsedMb: 3100 + i * 10, memTotalMb: 8192 }]),
        ],
      );
    const dataset = await db.query(`INSERT INTO "Dataset" (id, "teamId", name, "updatedAt") VALUES ($1, $2, $3, now()) RETURNING id`, [
      `e2e${randomBytes(8).toString("hex")}`,
      teamId,
      datasetName,
    ]);
    const version = await db.query(
      `INSERT INTO "DatasetVersion" (id, "datasetId", version, status, task, "updatedAt") VALUES ($1, $2, 1, 'READY', 'detect', now()) RETURNING id`,
      [`e2e${randomBytes(8).toString("hex")}`, dataset.rows[0].id],
    );
    await db.query(`UPDATE "TrainingJob" SET "datasetVersionId" = $1 WHERE id = $2`, [version.rows[0].id, jobId]);
  } finally {
    await db.end();
    s3.destroy();
  }
}

async function waitForStatus(page: Page, jobId: string, status: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/jobs/${jobId}`)).json()).job.status, { timeout: 30_000 })
    .toBe(status);
}

/** Drags across the middle of a chart's plot area, from `from` to `to` (shares of its width). */
async function drag(chart: Locator, from: number, to: number, shift = false) {
  const over = chart.locator(".u-over").first();
  const box = (await over.boundingBox())!;
  const y = box.y + box.height / 2;
  const page = chart.page();
  if (shift) await page.keyboard.down("Shift");
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down({});
  await page.mouse.move(box.x + box.width * ((from + to) / 2), y, { steps: 4 });
  await page.mouse.move(box.x + box.width * to, y, { steps: 4 });
  await page.mouse.up();
  if (shift) await page.keyboard.up("Shift");
}

/** Every section of a finished job's page has drawn: charts, resources, the per-class table, the plots. */
async function pageLoaded(page: Page) {
  for (const id of ["chart-losses", "chart-utilisation", "chart-memory"])
    await expect(page.getByTestId(id).locator("canvas").first()).toBeVisible();
  await expect(page.getByRole("table", { name: "Per-class metrics" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Plots" }).locator("img")).toHaveCount(PLOTS.length);
  // Thumbnails load lazily: each is brought into view first.
  for (const img of await page.getByRole("list", { name: "Plots" }).locator("img").all()) {
    await img.scrollIntoViewIfNeeded();
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

test("job page: validation losses, chart controls, per-class table, plots lightbox, resources with the input-bound hint, dataset link", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const stamp = `jp${Date.now().toString(36)}`;
  const { admin, team, project, pages } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  const res = await member.request.post(`/api/v1/projects/${project.id}/jobs`, {
    data: {
      name: "charted run",
      config: { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 12 }, metadata: { fake: { delayMs: 100 } } },
    },
    headers: FROM_DASHBOARD,
  });
  expect(res.status()).toBe(201);
  const { job } = await res.json();
  await waitForStatus(member, job.id, "SUCCEEDED");
  const datasetName = `shapes-${stamp}`;
  await seedJobExtras(job.id, team.id, datasetName);

  const url = `/t/${team.slug}/p/shapes/jobs/${job.id}`;
  await member.goto(url);

  // The dataset version it trained on, linked to its page.
  const datasetLink = member.getByTestId("job-dataset");
  await expect(datasetLink).toHaveText(`${datasetName}@v1`);
  await expect(datasetLink).toHaveAttribute("href", `/t/${team.slug}/datasets/${datasetName}?v=1`);

  // Losses: train and validation together (validation dashed), all twelve epochs.
  const losses = member.getByTestId("chart-losses");
  await expect(losses.getByRole("img")).toHaveAttribute("aria-label", /over 12 epochs/);
  const lossSeries = losses.getByRole("img");
  await expect(lossSeries).toHaveAttribute("data-series", /train box_loss/);
  await expect(lossSeries).toHaveAttribute("data-series", /val box_loss/);

  // A legend entry hides and shows its line.
  const valBox = losses.getByRole("button", { name: /^val box_loss/ });
  await valBox.click();
  await expect(valBox).toHaveAttribute("aria-pressed", "false");
  await expect(lossSeries).not.toHaveAttribute("data-series", /val box_loss/);
  await valBox.click();
  await expect(lossSeries).toHaveAttribute("data-series", /val box_loss/);

  // Zoom by dragging, pan with Shift+drag, reset.
  await drag(losses, 0.2, 0.5);
  await expect(losses).toHaveAttribute("data-zoomed", "true");
  await drag(losses, 0.5, 0.3, true);
  await expect(losses).toHaveAttribute("data-zoomed", "true");
  await losses.getByRole("button", { name: "Reset zoom" }).click();
  await expect(losses).toHaveAttribute("data-zoomed", "false");

  // Smoothing and the log axis.
  await losses.getByLabel("Smoothing").fill("0.6");
  await expect(losses).toHaveAttribute("data-smoothing", "0.6");
  const lr = member.getByTestId("chart-lr");
  await lr.getByLabel("Log").check();
  await expect(lr).toHaveAttribute("data-log", "true");
  // The three learning-rate groups each have their own legend entry.
  await expect(lr.getByRole("group", { name: "Learning rate series" }).getByRole("button")).toHaveCount(3);

  // The enlarged view, closed with Escape.
  await member.getByRole("button", { name: "Enlarge Validation metrics" }).click();
  const enlarged = member.getByRole("dialog", { name: "Validation metrics" });
  await expect(enlarged).toBeVisible();
  await expect(enlarged.getByRole("img")).toHaveAttribute("aria-label", /mAP50-95\(B\)/);
  await member.keyboard.press("Escape");
  await expect(enlarged).toBeHidden();

  // Per-class metrics: lowest mAP50-95 first, a click on the heading reverses it.
  const table = member.getByRole("table", { name: "Per-class metrics" });
  const firstClass = () => table.locator("tbody tr").first().locator("td").first();
  await expect(table.locator("tbody tr")).toHaveCount(3);
  await expect(firstClass()).toHaveText("triangle");
  const mapHeader = table.getByRole("columnheader", { name: /^mAP50-95/ });
  await expect(mapHeader).toHaveAttribute("aria-sort", "ascending");
  await mapHeader.getByRole("button").click();
  await expect(mapHeader).toHaveAttribute("aria-sort", "descending");
  await expect(firstClass()).toHaveText("circle");
  // "square" had no validation instances: no scores, last whichever way.
  await expect(table.locator("tbody tr").last().locator("td").first()).toHaveText("square");

  // Plots: thumbnails, then the lightbox with ← / → and Escape.
  const gallery = member.getByRole("list", { name: "Plots" });
  await expect(gallery.getByRole("listitem")).toHaveCount(PLOTS.length);
  await gallery.getByRole("button", { name: "Open Confusion matrix" }).click();
  const lightbox = member.getByRole("dialog", { name: "Confusion matrix" });
  await expect(lightbox).toBeVisible();
  await expect(lightbox).toContainText(`1 of ${PLOTS.length}`);
  const big = lightbox.getByRole("img", { name: "Confusion matrix" });
  await expect.poll(() => big.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(480);
  await member.keyboard.press("ArrowRight");
  await expect(member.getByRole("dialog")).toContainText(`2 of ${PLOTS.length}`);
  await member.keyboard.press("ArrowLeft");
  await member.keyboard.press("ArrowLeft");
  await expect(member.getByRole("dialog")).toContainText(`${PLOTS.length} of ${PLOTS.length}`);
  await expect(member.getByRole("dialog")).toContainText("val_batch0_pred.jpg");
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await member.screenshot({ path: `${SHOTS}/job-lightbox.png` });
  }
  await member.keyboard.press("Escape");
  await expect(member.getByRole("dialog")).toHaveCount(0);

  // The links are short-lived (≤ 5 min) and another team's member cannot list them.
  const { plots } = await (await member.request.get(`/api/v1/jobs/${job.id}/plots`)).json();
  expect(plots.map((p: { name: string }) => p.name)).toEqual([
    "confusion_matrix.png",
    "BoxF1_curve.png",
    "BoxPR_curve.png",
    "results.png",
    "labels.jpg",
    "val_batch0_pred.jpg",
  ]);
  expect(Number(new URL(plots[0].url).searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(300);
  const outsider = await seedTeam(browser, `${stamp}o`, ["MEMBER"]);
  expect((await outsider.pages[0]!.request.get(`/api/v1/jobs/${job.id}/plots`)).status()).toBe(404);

  // Resources: GPU and host CPU, memory, and the hint (GPU under 30% while the CPUs were ~94% busy).
  const util = member.getByTestId("chart-utilisation").getByRole("img");
  await expect(util).toHaveAttribute("data-series", "GPU 0|host CPU");
  await expect(util).toHaveAttribute("aria-label", /over 20 samples/);
  await expect(member.getByTestId("chart-memory").getByRole("img")).toHaveAttribute("data-series", "GPU 0 memory|trainer RAM");
  const hint = member.getByTestId("input-bound-hint");
  await expect(hint).toContainText("GPU utilisation stayed under");
  await expect(hint).toContainText("the data loader is the bottleneck");
  await expect(hint.locator("code")).toHaveText(["cache: ram", "workers"]);

  if (SHOTS) {
    await member.screenshot({ path: `${SHOTS}/job-light.png`, fullPage: true });
    await member.emulateMedia({ colorScheme: "dark" });
    await member.reload();
    await pageLoaded(member);
    await member.screenshot({ path: `${SHOTS}/job-dark.png`, fullPage: true });
    await member.getByRole("button", { name: "Enlarge Losses" }).click();
    await member.screenshot({ path: `${SHOTS}/job-enlarged-dark.png` });
    await member.keyboard.press("Escape");
    await member.emulateMedia({ colorScheme: "light" });
    await member.setViewportSize({ width: 390, height: 844 });
    await member.reload();
    await pageLoaded(member);
    await member.screenshot({ path: `${SHOTS}/job-390.png`, fullPage: true });
  }
  // Nothing is wider than a phone's screen.
  await member.setViewportSize({ width: 390, height: 844 });
  await member.reload();
  await pageLoaded(member);
  expect(await member.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  await Promise.all([admin.close(), member.context().close(), outsider.admin.close(), outsider.pages[0]!.context().close()]);
});

test("a running job's resource chart fills live", async ({ browser }) => {
  test.setTimeout(90_000);
  const stamp = `jr${Date.now().toString(36)}`;
  const { admin, team, project, pages } = await seedTeam(browser, stamp, ["MEMBER"]);
  const member = pages[0]!;
  const res = await member.request.post(`/api/v1/projects/${project.id}/jobs`, {
    data: {
      name: "long run",
      config: { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 100 }, metadata: { fake: { delayMs: 1000 } } },
    },
    headers: FROM_DASHBOARD,
  });
  const { job } = await res.json();
  await member.goto(`/t/${team.slug}/p/shapes/jobs/${job.id}`);
  await expect(member.getByTestId("job-status").first()).toHaveText(/RUNNING/, { timeout: 20_000 });
  // The worker samples every 5 s; the page adds each sample as it arrives (no reload).
  const util = member.getByTestId("chart-utilisation");
  await expect(util.getByRole("img")).toHaveAttribute("aria-label", /over ([2-9]|\d\d+) samples/, { timeout: 30_000 });
  await expect(util.getByRole("img")).toHaveAttribute("data-series", /host CPU/);
  await expect(member.getByTestId("chart-memory").getByRole("img")).toHaveAttribute("data-series", /trainer RAM/);
  if (SHOTS) await member.screenshot({ path: `${SHOTS}/job-running.png`, fullPage: true });
  await member.request.post(`/api/v1/jobs/${job.id}/cancel`, { headers: FROM_DASHBOARD });
  await Promise.all([admin.close(), member.context().close()]);
});
