import { ADMIN, expect, signInThroughUi, test } from "./helpers";

// The browser's own sign-out (next-auth's App Router route) must end the session on the server:
// a copy of the old cookie, replayed after sign-out, is refused.
test("signing out in the browser revokes the session token on the server", async ({ page, context, playwright }) => {
  await signInThroughUi(page, ADMIN.email, ADMIN.password);
  const session = (await context.cookies()).find((c) => c.name.endsWith("next-auth.session-token"));
  expect(session, "a session cookie after sign-in").toBeTruthy();

  const replay = await playwright.request.newContext({
    baseURL: page.url(),
    extraHTTPHeaders: { cookie: `${session!.name}=${session!.value}` },
  });
  expect((await replay.get("/api/v1/me")).status()).toBe(200);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await expect.poll(async () => (await replay.get("/api/v1/me")).status()).toBe(401);
  await replay.dispose();
});
