import { createHmac } from "node:crypto";
import type { DeliveryPayload } from "@wyolo/db/webhook-outbox";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (SIGNATURE_HEADER; docs/webhooks.md shows the check). */
export function signatureHeader(secret: string, body: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** The payload as sent: its links made absolute against the dashboard's address. */
export function withAbsoluteLinks<P extends DeliveryPayload>(payload: P, dashboardUrl: string): P {
  const links: Record<string, string> = {};
  for (const [name, path] of Object.entries(payload.links ?? {})) links[name] = new URL(path, dashboardUrl).toString();
  return { ...payload, links };
}

// Slack's mrkdwn: &, < and > are control characters (links are <url|text>).
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const link = (url: string | undefined, text: string) => (url ? `<${url}|${esc(text)}>` : `*${esc(text)}*`);
const metric = (v: number | null) => (v === null ? "–" : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, ""));

const HEADLINES: Record<string, [string, string]> = {
  "job.succeeded": [":white_check_mark:", "succeeded"],
  "job.failed": [":x:", "failed"],
  "job.cancelled": [":no_entry_sign:", "was cancelled"],
  "export.succeeded": [":package:", "export succeeded"],
  "export.failed": [":x:", "export failed"],
  "sweep.completed": [":checkered_flag:", "sweep completed"],
  "model.version_created": [":label:", "new model version"],
  ping: [":wave:", "test message"],
};

type SlackText = { type: "mrkdwn"; text: string };
export type SlackMessage = {
  text: string;
  blocks: ({ type: "section"; text: SlackText } | { type: "section"; fields: SlackText[] } | { type: "context"; elements: SlackText[] })[];
};

/** A Slack incoming-webhook message: `text` (notifications, fallback) and Block Kit `blocks`. */
export function slackMessage(p: DeliveryPayload): SlackMessage {
  const [icon, verb] = HEADLINES[p.event] ?? [":bell:", p.event];
  let subject: string;
  let plain: string;
  const fields: SlackText[] = [];
  if (p.export && p.job) {
    subject = `${link(p.links.job, p.job.name)} ${verb}: ${esc(p.export.format)}`;
    plain = `${p.job.name} ${verb}: ${p.export.format}`;
    if (p.export.failureReason) fields.push({ type: "mrkdwn", text: `*Reason*\n${esc(p.export.failureReason.slice(0, 500))}` });
  } else if (p.model) {
    subject = `${link(p.links.models, `${p.model.name} v${p.model.version}`)} registered`;
    plain = `${p.model.name} v${p.model.version} registered`;
    if (p.model.bestMetricName) fields.push({ type: "mrkdwn", text: `*${esc(p.model.bestMetricName)}*\n${metric(p.model.bestMetric)}` });
    if (p.model.dataset) fields.push({ type: "mrkdwn", text: `*Dataset*\n${esc(p.model.dataset)}` });
    if (p.links.job) fields.push({ type: "mrkdwn", text: `*Job*\n${link(p.links.job, "open")}` });
  } else if (p.job) {
    subject = `Job ${link(p.links.job, p.job.name)} ${verb}`;
    plain = `Job ${p.job.name} ${verb}`;
    fields.push({ type: "mrkdwn", text: `*Model*\n${esc(p.job.model || "–")} (${esc(p.job.task)})` });
    if (p.job.bestMetricName)
      fields.push({
        type: "mrkdwn",
        text: `*Best ${esc(p.job.bestMetricName)}*\n${metric(p.job.bestMetric)}${p.job.bestEpoch !== null ? ` (epoch ${p.job.bestEpoch})` : ""}`,
      });
    if (p.job.failureReason)
      fields.push({
        type: "mrkdwn",
        text: `*${p.job.failureClass ? esc(p.job.failureClass) : "Reason"}*\n${esc(p.job.failureReason.slice(0, 500))}`,
      });
  } else if (p.sweep) {
    subject = `Sweep ${link(p.links.sweep, p.sweep.name)} ${verb.replace(/^sweep /, "")}`;
    plain = `Sweep ${p.sweep.name} ${verb.replace(/^sweep /, "")}`;
    fields.push({ type: "mrkdwn", text: `*Best value*\n${metric(p.sweep.bestValue)}` });
    if (p.links.bestJob) fields.push({ type: "mrkdwn", text: `*Best trial*\n${link(p.links.bestJob, "open")}` });
  } else {
    subject = `Wyolo ${verb} for team ${link(p.links.webhooks, p.team.name)}`;
    plain = `Wyolo ${verb} for team ${p.team.name}`;
  }
  const where = p.project ? `${esc(p.team.name)} / ${link(p.links.project, p.project.name)}` : esc(p.team.name);
  return {
    text: `${icon} ${plain}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${icon} ${subject}` } },
      ...(fields.length ? [{ type: "section" as const, fields }] : []),
      { type: "context", elements: [{ type: "mrkdwn", text: `${where} · \`${p.event}\`` }] },
    ],
  };
}
