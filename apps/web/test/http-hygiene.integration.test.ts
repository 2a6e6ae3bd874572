import { createServer } from "node:http";
import net from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { MAX_BODY_BYTES } from "@/server/http";
import { hashInviteToken, newInviteToken } from "@/server/invitations/token";
import * as teamsRoute from "@/app/api/v1/teams/route";
import * as teamRoute from "@/app/api/v1/teams/[teamId]/route";
import * as projectsRoute from "@/app/api/v1/teams/[teamId]/projects/route";
import * as transferRoute from "@/app/api/v1/teams/[teamId]/transfer/route";
import * as invitationsRoute from "@/app/api/v1/teams/[teamId]/invitations/route";
import * as previewRoute from "@/app/api/v1/invitations/preview/route";
import * as acceptRoute from "@/app/api/v1/invitations/accept/route";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as cancelRoute from "@/app/api/v1/jobs/[jobId]/cancel/route";
import { call, createTeamWith, createUser, sessionCookie, uniqueEmail } from "../../../test/integration/helpers";

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

let owner: Awaited<ReturnType<typeof createUser>>;
let ownerCookie: string;
let heir: Awaited<ReturnType<typeof createUser>>;
let teamId: string;
let projectId: string;

beforeAll(async () => {
  [owner, heir] = await Promise.all([createUser(), createUser()]);
  ownerCookie = await sessionCookie(owner);
  teamId = (
    await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: heir.id, role: "ADMIN" },
    ])
  ).id;
  projectId = (await db.project.create({ data: { teamId, name: "P", slug: "p" } })).id;
});

const CONFIG = { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 1 } };
const ownerRole = async () => (await db.membership.findUniqueOrThrow({ where: { teamId_userId: { teamId, userId: owner.id } } })).role;

/** A body that counts how much of it the server pulled. */
function countingStream(total: number, chunk = 64 * 1024) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) return controller.close();
      seen.pulled += chunk;
      controller.enqueue(new Uint8Array(chunk).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

async function send(handler: Handler, init: RequestInit & { params?: Record<string, string>; query?: string }) {
  const req = new Request(`http://localhost:3000/api/v1/x${init.query ? `?${init.query}` : ""}`, {
    duplex: "half",
    ...init,
  } as RequestInit);
  const res = await handler(req, { params: Promise.resolve(init.params ?? {}) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

describe("CSRF: signed-in changes only from the dashboard's own origin", () => {
  it("refuses a text/plain form-style POST from another origin: no ownership transfer, no invitation", async () => {
    const transfer = await call(transferRoute.POST, {
      cookie: ownerCookie,
      params: { teamId },
      origin: "https://evil.example",
      contentType: "text/plain;charset=UTF-8",
      rawBody: JSON.stringify({ userId: heir.id }),
    });
    expect(transfer.status).toBe(403);
    expect(transfer.body.error.message).toMatch(/Cross-origin request refused/);
    expect(await ownerRole()).toBe("OWNER");

    const invite = await call(invitationsRoute.POST, {
      cookie: ownerCookie,
      params: { teamId },
      origin: "https://sub.localhost:3000",
      body: { email: uniqueEmail(), role: "ADMIN" },
    });
    expect(invite.status).toBe(403);
    expect(await db.invitation.count({ where: { teamId } })).toBe(0);
  });

  it("uses Sec-Fetch-Site when a browser sends no Origin, and refuses a cookie with neither", async () => {
    const body = { name: "Renamed by same origin" };
    expect(
      (
        await call(teamRoute.PATCH, {
          method: "PATCH",
          cookie: ownerCookie,
          params: { teamId },
          origin: null,
          headers: { "sec-fetch-site": "same-origin" },
          body,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(teamRoute.PATCH, {
          method: "PATCH",
          cookie: ownerCookie,
          params: { teamId },
          origin: null,
          headers: { "sec-fetch-site": "same-site" },
          body,
        })
      ).status,
    ).toBe(403);
    expect((await call(teamRoute.PATCH, { method: "PATCH", cookie: ownerCookie, params: { teamId }, origin: null, body })).status).toBe(
      403,
    );
    expect((await call(teamRoute.PATCH, { method: "PATCH", cookie: ownerCookie, params: { teamId }, origin: "null", body })).status).toBe(
      403,
    );
  });

  it("leaves reads and cookie-less calls (scripts, API tokens) alone", async () => {
    expect((await call(teamRoute.GET, { cookie: ownerCookie, params: { teamId }, origin: "https://evil.example" })).status).toBe(200);
    const preview = await call(previewRoute.POST, { origin: "https://evil.example", body: { token: "x".repeat(40) } });
    expect(preview.status).toBe(404);
  });
});

describe("media types", () => {
  it("takes JSON bodies only (415 otherwise), YAML on the config upload, and no type on an empty POST", async () => {
    const plain = await call(projectsRoute.POST, {
      cookie: ownerCookie,
      params: { teamId },
      contentType: "text/plain",
      rawBody: JSON.stringify({ name: "Sneaky" }),
    });
    expect(plain.status).toBe(415);
    expect(plain.body.error).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", message: "Send the body as application/json" });
    const form = await call(projectsRoute.POST, {
      cookie: ownerCookie,
      params: { teamId },
      contentType: "application/x-www-form-urlencoded",
      rawBody: "name=Sneaky",
    });
    expect(form.status).toBe(415);
    const yamlToTeams = await call(teamsRoute.POST, { cookie: ownerCookie, contentType: "application/yaml", rawBody: "name: Sneaky" });
    expect(yamlToTeams.status).toBe(415);
    // A body without a type at all is not taken as JSON either.
    expect((await call(teamsRoute.POST, { cookie: ownerCookie, contentType: null, rawBody: '{"name":"Sneaky"}' })).status).toBe(415);
    expect(await db.project.count({ where: { teamId, name: "Sneaky" } })).toBe(0);

    const charset = await call(projectsRoute.POST, {
      cookie: ownerCookie,
      params: { teamId },
      contentType: "application/json; charset=utf-8",
      body: { name: "With charset" },
    });
    expect(charset.status).toBe(201);

    const job = await call(jobsRoute.POST, { cookie: ownerCookie, params: { projectId }, body: { config: CONFIG } });
    expect(job.status).toBe(201);
    const cancel = await call(cancelRoute.POST, { cookie: ownerCookie, params: { jobId: job.body.job.id }, contentType: null });
    expect(cancel.status).toBe(202);

    const yaml = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "text/yaml",
      query: "name=from%20yaml",
      rawBody: "model: yolo11n.pt\ntrain: {data: shapes/data.yaml, epochs: 1}",
    });
    expect(yaml.status).toBe(201);
    expect(yaml.body.job.name).toBe("from yaml");
  });
});

/**
 * Sends up to 50 MB to a real HTTP server that hands the request to a route the way Next.js does
 * (build/templates/app-route.js: the IncomingMessage itself becomes the Request's body stream),
 * and reports what came back and how much the client managed to send before the server closed.
 */
async function uploadOverSocket(handler: Handler, framing: "chunked" | "declared") {
  const server = createServer(async (req, res) => {
    const request = new Request(`http://localhost:3000${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: req as unknown as BodyInit,
      duplex: "half",
    } as RequestInit);
    const answer = await handler(request, { params: Promise.resolve({}) });
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  const started = Date.now();
  const outcome = await new Promise<{ answer: string; sent: number }>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    let sent = 0;
    const done = () => resolve({ answer, sent });
    socket.on("data", (d) => (answer += d.toString()));
    socket.on("error", done);
    socket.on("close", done);
    const length = framing === "chunked" ? "Transfer-Encoding: chunked" : "Content-Length: 300000000";
    socket.write(`POST /api/v1/invitations/preview HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < 50_000_000 && !socket.destroyed) {
        sent += chunk.length;
        const piece =
          framing === "chunked" ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
        if (!socket.write(piece)) return void socket.once("drain", pump);
      }
    };
    pump();
  });
  server.close();
  return { ...outcome, ms: Date.now() - started };
}

describe("bounded bodies", () => {
  it("over a real socket, answers 413 and closes the connection instead of reading on, chunked or not", async () => {
    for (const framing of ["chunked", "declared"] as const) {
      const { answer, sent, ms } = await uploadOverSocket(previewRoute.POST, framing);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.toLowerCase()).toContain("connection: close");
      expect(sent).toBeLessThan(20_000_000);
      expect(ms).toBeLessThan(2_000);
    }
  });

  it("refuses a Content-Length over the limit before reading a byte (413), even signed out", async () => {
    const { stream, seen } = countingStream(300_000_000);
    const res = await send(previewRoute.POST, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "300000000" },
      body: stream,
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(seen.pulled).toBeLessThanOrEqual(64 * 1024 * 2); // what a stream buffers on its own, never read
  });

  it("cuts a chunked body at the limit while it streams, and stops pulling", async () => {
    const { stream, seen } = countingStream(300_000_000);
    const started = Date.now();
    const res = await send(previewRoute.POST, { method: "POST", headers: { "content-type": "application/json" }, body: stream });
    expect(res.status).toBe(413);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(MAX_BODY_BYTES + 4 * 64 * 1024);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("limits a YAML config to 100 kB, by its Content-Length and while it streams", async () => {
    const big = `model: yolo11n.pt\ntrain: {data: shapes/data.yaml, epochs: 1}\n#${"x".repeat(120_000)}`;
    const declared = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "application/yaml",
      rawBody: big,
      headers: { "content-length": String(big.length) },
    });
    expect(declared.status).toBe(413);
    expect(declared.body.error.message).toBe("Request body is larger than 100 kB");
    const streamed = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "application/yaml",
      rawBody: big,
    });
    expect(streamed.status).toBe(413);
    // A JSON body up to 1 MB is read (and then judged by its schema).
    const nearLimit = await call(teamsRoute.POST, { cookie: ownerCookie, body: { name: "x".repeat(900_000) } });
    expect(nearLimit.status).toBe(422);
  });
});

describe("every input gets a 4xx with the field it is about", () => {
  const fieldsOf = (res: { status: number; body: any }) => {
    expect(res.status).toBe(422);
    return res.body.error.fields as Record<string, string[]>;
  };

  it("refuses NUL and lone surrogates in stored text, at the exact field", async () => {
    const submit = (body: unknown) => call(jobsRoute.POST, { cookie: ownerCookie, params: { projectId }, body });
    expect(fieldsOf(await submit({ name: "a\u0000b", config: CONFIG }))).toEqual({ name: [expect.stringMatching(/NUL/)] });
    expect(
      Object.keys(fieldsOf(await submit({ config: { ...CONFIG, train: { ...CONFIG.train, data: "sh\u0000apes/data.yaml" } } }))),
    ).toEqual(["config.train.data"]);
    expect(Object.keys(fieldsOf(await submit({ config: { ...CONFIG, metadata: { note: "\ud800" } } })))).toEqual(["config.metadata.note"]);
    expect(Object.keys(fieldsOf(await submit({ config: { ...CONFIG, task_id: "t\u0000" } })))).toEqual(["config.task_id"]);
    expect(fieldsOf(await call(teamsRoute.POST, { cookie: ownerCookie, body: { name: "Team \ud800" } }))).toEqual({
      name: [expect.stringMatching(/lone surrogate/)],
    });
    expect(
      Object.keys(fieldsOf(await call(projectsRoute.POST, { cookie: ownerCookie, params: { teamId }, body: { name: "P\u0000" } }))),
    ).toEqual(["name"]);
    expect(
      Object.keys(
        fieldsOf(await call(acceptRoute.POST, { body: { token: "x".repeat(40), name: "Eve\u0000", password: "a-long-password" } })),
      ),
    ).toEqual(["name"]);
    // In a YAML upload's query, in a list's cursor, and as YAML escapes.
    expect(
      Object.keys(
        fieldsOf(
          await call(jobsRoute.POST, {
            cookie: ownerCookie,
            params: { projectId },
            contentType: "application/yaml",
            query: "name=%00",
            rawBody: "model: yolo11n.pt",
          }),
        ),
      ),
    ).toEqual(["name"]);
    expect(Object.keys(fieldsOf(await call(jobsRoute.GET, { cookie: ownerCookie, params: { projectId }, query: "cursor=%00" })))).toEqual([
      "cursor",
    ]);
    const yamlNul = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "application/yaml",
      rawBody: 'model: yolo11n.pt\ntrain: {data: "a\\0b", epochs: 1}',
    });
    expect(Object.keys(fieldsOf(yamlNul))).toEqual(["config.train.data"]);
    const jsonYaml = await submit({ config: 'model: yolo11n.pt\ntrain: {data: "\\ud800", epochs: 1}' });
    expect(Object.keys(fieldsOf(jsonYaml))).toEqual(["config.train.data"]);
    expect(await db.trainingJob.count({ where: { projectId, status: "QUEUED" } })).toBe(1); // the YAML one above
  });

  it("refuses deep nesting before anything recurses, and YAML alias cycles", async () => {
    for (const depth of [65, 5_001, 200_000]) {
      const res = await call(teamsRoute.POST, { cookie: ownerCookie, rawBody: "[".repeat(depth) + "]".repeat(depth) });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe("Request body is nested more than 64 levels deep");
    }
    const deepYaml = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "application/yaml",
      rawBody: `model: yolo11n.pt\nmetadata: ${"[".repeat(100)}1${"]".repeat(100)}`,
    });
    expect(fieldsOf(deepYaml)).toEqual({ "config.metadata": ["Nested more than 64 levels deep"] });
    const cycle = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      contentType: "application/yaml",
      rawBody: "model: yolo11n.pt\ntrain: &t {data: shapes/data.yaml, epochs: 1, again: *t}",
    });
    expect(cycle.status).toBe(422);
  });

  it("names prototype keys plainly and never lets them reach an object's prototype", async () => {
    const proto = await call(teamsRoute.POST, {
      cookie: ownerCookie,
      rawBody: '{"name": "Proto team", "__proto__": {"isPlatformAdmin": true}}',
    });
    expect(fieldsOf(proto)).toEqual({ ["__proto__"]: ["`__proto__` is not allowed as a key"] });
    const nested = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      rawBody: '{"config": {"model": "yolo11n.pt", "train": {"data": "shapes/data.yaml", "__proto__": {"epochs": 9}}}}',
    });
    expect(Object.keys(fieldsOf(nested))).toEqual(["config.train.__proto__"]);
    const ctor = await call(jobsRoute.POST, {
      cookie: ownerCookie,
      params: { projectId },
      body: { config: { ...CONFIG, train: { ...CONFIG.train, constructor: 1 } } },
    });
    expect(ctor.status).toBe(422);
    expect(JSON.stringify(ctor.body)).not.toContain("native code");
    expect(({} as Record<string, unknown>).isPlatformAdmin).toBeUndefined();
  });

  it("answers ten parallel accepts of one invitation with one 201 and nine 4xx (used, or the account exists), creating one account", async () => {
    const email = uniqueEmail("racer");
    const token = newInviteToken();
    await db.invitation.create({
      data: {
        teamId,
        email,
        role: "VIEWER",
        tokenHash: hashInviteToken(token),
        expiresAt: new Date(Date.now() + 3_600_000),
        invitedById: owner.id,
      },
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(acceptRoute.POST, { body: { token, name: `Racer ${i}`, password: "a-long-password" } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    // Those that read the invitation before the winner committed find the account made (409), the rest find it used (410).
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 || r.status === 410)).toBe(true);
    expect(await db.user.count({ where: { email } })).toBe(1);
    expect(await db.membership.count({ where: { teamId, user: { email } } })).toBe(1);
  });

  it("answers parallel accepts by the signed-in invitee the same way", async () => {
    const invitee = await createUser();
    const token = newInviteToken();
    await db.invitation.create({
      data: {
        teamId,
        email: invitee.email,
        role: "MEMBER",
        tokenHash: hashInviteToken(token),
        expiresAt: new Date(Date.now() + 3_600_000),
        invitedById: owner.id,
      },
    });
    const cookie = await sessionCookie(invitee);
    const results = await Promise.all(Array.from({ length: 10 }, () => call(acceptRoute.POST, { cookie, body: { token } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 || r.status === 410)).toBe(true);
    expect(await db.membership.count({ where: { teamId, userId: invitee.id } })).toBe(1);
  });
});
