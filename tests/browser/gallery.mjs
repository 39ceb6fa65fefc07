// Drives pgvision's gallery page in Debian's headless Chromium through
// playwright-core (no browser download): picks a query photo, waits for the
// thumbnail grid, checks the first result, saves a screenshot, then checks
// that a corrupt upload shows the service's error message.
//
//   node gallery.mjs URL QUERY_FILE EXPECTED_FIRST_NAME SCREENSHOT.png
//
// Prints one JSON line with what the page showed; exits non-zero on failure.
import { chromium } from "playwright-core";

const [url, query, expected, screenshot] = process.argv.slice(2);
if (!screenshot) {
  console.error("usage: node gallery.mjs URL QUERY_FILE EXPECTED_FIRST_NAME SCREENSHOT.png");
  process.exit(2);
}

// The flags that work on these machines: no sandbox as root, and no
// background connections (the network is closed).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
  page.setDefaultTimeout(30_000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  await page.locator("#count", { hasText: "images indexed" }).waitFor();

  await page.setInputFiles("#file", query);
  await page.locator("#results .hit").first().waitFor();
  await page.locator("#status", { hasText: "nearest images" }).waitFor();
  // Every thumbnail in view has loaded (lazy ones below the fold need not).
  await page.waitForFunction(() =>
    [...document.querySelectorAll("#results img")]
      .filter((img) => img.getBoundingClientRect().top < innerHeight)
      .every((img) => img.complete && img.naturalWidth > 0));
  const names = await page.locator("#results .hit .name").allTextContents();
  const distances = (await page.locator("#results .hit .distance").allTextContents())
    .map((t) => Number(t.replace("distance ", "")));
  await page.screenshot({ path: screenshot });

  if (names[0] !== expected) problems.push(`first result is ${names[0]}, expected ${expected}`);
  if (distances.some((d, i) => Number.isNaN(d) || (i > 0 && d < distances[i - 1]))) {
    problems.push(`distances not ascending: ${distances}`);
  }

  // A corrupt file: the grid empties and the status shows the 4xx message.
  await page.setInputFiles("#file", { name: "broken.jpg", mimeType: "image/jpeg", buffer: Buffer.from("not an image") });
  const error = page.locator("#status.error");
  await error.waitFor();
  const errorText = await error.textContent();
  const left = await page.locator("#results .hit").count();
  if (left !== 0) problems.push(`${left} results left after a failed search`);

  console.log(JSON.stringify({ first: names[0], results: names.length, distances: distances.slice(0, 5), error: errorText }));
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
