import { expect, test } from "@playwright/test";

// Every page of the production build under its nonce CSP (server/http/security-headers.ts):
// the headers are there, Next's inline scripts carry the nonce, the pages hydrate, and the
// browser reports no CSP violation.
for (const path of ["/", "/wallet", "/dashboard", "/embed-demo", "/partners"]) {
  test(`${path} is served with a nonce CSP that nothing on it violates`, async ({ page }) => {
    const violations: string[] = [];
    await page.exposeFunction("reportCspViolation", (text: string) => violations.push(text));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
        report(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
      });
    });
    const response = await page.goto(path);
    const headers = response!.headers();
    const csp = headers["content-security-policy"] ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    // Next's inline scripts carry this answer's nonce.
    expect(await page.locator(`script[nonce]`).count()).toBeGreaterThan(0);
    // Hydrated: the header's navigation is interactive (a client-side link) and the page is live.
    await expect(page.locator("main#main")).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect(violations).toEqual([]);
  });
}

test("the home page's widget connects under the CSP (Socket.IO on the same origin)", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("[data-state]").first()).toHaveAttribute("data-state", "waiting");
});
