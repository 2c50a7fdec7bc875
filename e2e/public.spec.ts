/**
 * public/: robots.txt, and the web app manifest that lets the wallet simulator be added
 * to a phone's home screen and open standalone. Everything is served from the app's own
 * origin (a Content-Security-Policy of 'self' allows it).
 */
import { PNG } from "pngjs";
import { expect, test } from "@playwright/test";

test("robots.txt is served as text", async ({ request }) => {
  const res = await request.get("/robots.txt");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/^text\/plain/);
  expect(await res.text()).toMatch(/^User-agent: \*$/m);
});

test("the wallet page links a same-origin manifest that opens /wallet standalone, with PNG icons of the sizes it says", async ({
  page,
  request,
  baseURL,
}) => {
  await page.goto("/wallet");
  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  if (href === null) throw new Error("no manifest link");
  const manifestUrl = new URL(href, page.url());
  expect(manifestUrl.origin).toBe(new URL(baseURL ?? "").origin);

  const res = await request.get(manifestUrl.href);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/^application\/manifest\+json/);
  const manifest = (await res.json()) as {
    start_url: string;
    display: string;
    icons: Array<{ src: string; sizes: string; type: string }>;
  };
  expect(manifest).toMatchObject({ start_url: "/wallet", display: "standalone" });
  expect(manifest.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));

  for (const icon of manifest.icons) {
    const iconUrl = new URL(icon.src, manifestUrl);
    expect(iconUrl.origin).toBe(manifestUrl.origin);
    const image = await request.get(iconUrl.href);
    expect(image.headers()["content-type"]).toBe("image/png");
    const png = PNG.sync.read(await image.body());
    expect(`${png.width}x${png.height}`).toBe(icon.sizes);
  }
});
