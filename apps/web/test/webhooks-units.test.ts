import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecret, parseSecretsKey, sealSecret, type SecretsKey } from "@wyolo/db/secret-box";
import { checkTarget, EMPTY_ALLOW_LIST, parseAllowList, refusedAddress, type AllowList } from "@wyolo/db/webhook-target";
import type { DeliveryPayload } from "@wyolo/db/webhook-outbox";
import { signatureHeader, slackMessage, withAbsoluteLinks } from "../../worker/src/webhooks/message";
import { retryDelayMs } from "../../worker/src/webhooks/deliver-webhook";

const allow = (text: string) => (parseAllowList(text) as { allow: AllowList }).allow;

describe("secret box", () => {
  const key = (parseSecretsKey(randomBytes(32).toString("base64")) as { key: SecretsKey }).key;
  it("seals and opens; a value is never stored twice the same; a tampered or foreign one does not open", () => {
    const a = sealSecret(key, "https://hooks.slack.com/services/T/B/x");
    expect(a).not.toBe(sealSecret(key, "https://hooks.slack.com/services/T/B/x"));
    expect(openSecret(key, a)).toBe("https://hooks.slack.com/services/T/B/x");
    const parts = a.split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => openSecret(key, parts.join("."))).toThrow();
    const other = (parseSecretsKey(randomBytes(32).toString("hex")) as { key: SecretsKey }).key;
    expect(() => openSecret(other, a)).toThrow();
  });
  it("takes 32 bytes as base64 or hex, nothing else", () => {
    expect("key" in parseSecretsKey(randomBytes(32).toString("hex"))).toBe(true);
    expect("key" in parseSecretsKey(randomBytes(32).toString("base64"))).toBe(true);
    expect(parseSecretsKey("short")).toMatchObject({ problem: expect.stringMatching(/32 random bytes/) });
    expect("problem" in parseSecretsKey(randomBytes(16).toString("hex"))).toBe(true);
  });
});

describe("SSRF guard", () => {
  it("refuses every non-public address, IPv4-mapped ones too", () => {
    for (const ip of [
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "ff02::1",
      "::ffff:10.0.0.1",
      "::ffff:169.254.169.254",
      "::127.0.0.1", // IPv4-compatible (deprecated ::/96)
      "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
      "100::1", // discard-only
    ])
      expect(refusedAddress(ip, EMPTY_ALLOW_LIST), ip).not.toBeNull();
    for (const ip of ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"])
      expect(refusedAddress(ip, EMPTY_ALLOW_LIST), ip).toBeNull();
  });

  it("lets the allow-list name hosts, addresses and ranges", async () => {
    const list = allow(" receiver.internal , 10.1.0.0/16, 127.0.0.1, [::1] ");
    expect(refusedAddress("10.1.2.3", list)).toBeNull();
    expect(refusedAddress("10.2.0.1", list)).toMatch(/private/);
    expect(refusedAddress("::ffff:127.0.0.1", list)).toBeNull();
    expect(refusedAddress("::1", list)).toBeNull();
    const resolveTo = (address: string) => async () => [{ address, family: 4 }];
    expect((await checkTarget("http://receiver.internal/x", list, resolveTo("10.9.9.9"))).ok).toBe(true);
    expect((await checkTarget("http://elsewhere.internal/x", list, resolveTo("10.9.9.9"))).ok).toBe(false);
    expect(parseAllowList("10.0.0.0/99")).toMatchObject({ problem: expect.stringMatching(/CIDR/) });
    expect(parseAllowList("bad host!")).toMatchObject({ problem: expect.any(String) });
  });

  it("checks every address a name resolves to, and pins the first", async () => {
    const twoFaces = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    const refused = await checkTarget("https://rebind.example/x", EMPTY_ALLOW_LIST, twoFaces);
    expect(refused).toMatchObject({ ok: false, reason: expect.stringMatching(/rebind.example resolves to 127.0.0.1, a loopback address/) });
    const fine = await checkTarget("https://ok.example:8443/x?y=1", EMPTY_ALLOW_LIST, async () => [
      { address: "93.184.216.34", family: 4 },
    ]);
    expect(fine).toMatchObject({ ok: true, target: { host: "ok.example", addresses: [{ address: "93.184.216.34" }] } });
    const unresolved = await checkTarget("https://nx.example/", EMPTY_ALLOW_LIST, async () => {
      throw Object.assign(new Error("nx"), { code: "ENOTFOUND" });
    });
    expect(unresolved).toMatchObject({ ok: false, unresolved: true });
    expect(await checkTarget("file:///etc/passwd", EMPTY_ALLOW_LIST)).toMatchObject({ ok: false });
    expect(await checkTarget("http://user:pw@93.184.216.34/", EMPTY_ALLOW_LIST)).toMatchObject({ ok: false });
  });
});

describe("messages", () => {
  const job: DeliveryPayload = {
    id: "evt1",
    event: "job.failed",
    createdAt: "2026-11-30T00:00:00.000Z",
    team: { id: "t", slug: "acme", name: "Acme & Co" },
    project: { id: "p", slug: "shapes", name: "Shapes" },
    job: {
      id: "j1",
      name: "yolo <run>",
      status: "FAILED",
      task: "detect",
      model: "yolo11n.pt",
      bestMetric: 0.41234,
      bestMetricName: "metrics/mAP50-95(B)",
      bestEpoch: 7,
      failureClass: "OUT_OF_MEMORY",
      failureReason: "CUDA out of memory",
      startedAt: null,
      finishedAt: null,
    },
    links: { job: "/t/acme/p/shapes/jobs/j1", project: "/t/acme/p/shapes" },
  };

  it("signs `<t>.<body>` with HMAC-SHA256", () => {
    const header = signatureHeader("whsec_x", '{"a":1}', 1_700_000_000);
    expect(header).toBe(`t=1700000000,v1=${createHmac("sha256", "whsec_x").update('1700000000.{"a":1}').digest("hex")}`);
  });

  it("makes links absolute", () => {
    expect(withAbsoluteLinks(job, "https://wyolo.example.com/").links.job).toBe("https://wyolo.example.com/t/acme/p/shapes/jobs/j1");
  });

  it("formats Slack messages with escaped text, the job's metric and reason, a context line", () => {
    const m = slackMessage(withAbsoluteLinks(job, "https://w.example"));
    expect(m.text).toBe(":x: Job yolo <run> failed");
    expect(m.blocks[0]).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: ":x: Job <https://w.example/t/acme/p/shapes/jobs/j1|yolo &lt;run&gt;> failed" },
    });
    const fields = JSON.stringify(m.blocks[1]);
    expect(fields).toContain("0.4123 (epoch 7)");
    expect(fields).toContain("OUT_OF_MEMORY");
    expect(JSON.stringify(m.blocks[2])).toContain("Acme &amp; Co");
    const sweep = slackMessage({
      ...job,
      event: "sweep.completed",
      job: undefined,
      sweep: { id: "s", name: "lr", status: "COMPLETED", bestValue: 0.5, bestJobId: "j1" },
      links: { sweep: "https://w/s", bestJob: "https://w/j" },
    });
    expect(sweep.text).toBe(":checkered_flag: Sweep lr completed");
    const exp = slackMessage({
      ...job,
      event: "export.succeeded",
      export: { id: "e", jobId: "j1", format: "onnx", status: "SUCCEEDED", failureReason: null },
    });
    expect(exp.text).toBe(":package: yolo <run> export succeeded: onnx");
    const model = slackMessage({
      ...job,
      event: "model.version_created",
      job: undefined,
      model: {
        name: "acme/shapes",
        version: 3,
        versionId: "mv",
        jobId: "j1",
        bestMetric: 0.61,
        bestMetricName: "metrics/mAP50-95(B)",
        dataset: "shapes@v2",
        configHash: "abc",
      },
      links: { models: "https://w/m", job: "https://w/j" },
    });
    expect(model.text).toBe(":label: acme/shapes v3 registered");
    expect(model.blocks[0]).toEqual({ type: "section", text: { type: "mrkdwn", text: ":label: <https://w/m|acme/shapes v3> registered" } });
    expect(JSON.stringify(model.blocks[1])).toContain("shapes@v2");
    expect(JSON.stringify(model.blocks[1])).toContain("0.61");
  });

  it("backs off exponentially, capped", () => {
    const retry = { baseMs: 30_000, maxMs: 3_600_000, windowMs: 86_400_000 };
    expect([1, 2, 3, 4, 8, 20].map((n) => retryDelayMs(n, retry))).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
  });
});
