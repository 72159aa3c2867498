// Opens a printfarm dashboard of a running Home Assistant in Debian's Chromium
// (playwright-core, no browser download), as a user would, and reports what it saw.
//
//   node tests/browser/dashboard.mjs '<json>'
//
// json: {
//   "url":      one-use logged-in URL of the start page (devtools.screenshot.logged_in_url),
//   "path":     the dashboard to open from there (e.g. /printfarm-farm),
//   "out":      folder for the screenshots,
//   "shot":     file name of the full-page screenshot,
//   "size":     [width, height] of the window (default 1600 x 1000),
//   "press":    optional {"section": "<heading>", "button": "<name>"} to click,
//   "expect_sections": how many sections to wait for (default 1),
//   "chromium": path of the browser (default $CHROMIUM or /usr/bin/chromium),
//   "add_dialog": open Settings > Dashboards > Add dashboard (path /config/lovelace/dashboards)
//                 instead, and report whether it offers "Print farm" (HA 2026.5+)
// }
// Prints one JSON line: counts of cards and error cards, section headings,
// whether the button was pressed, console errors, and the screenshot's path.
import { chromium } from "playwright-core";
import path from "node:path";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const options = JSON.parse(process.argv[2]);
const [width, height] = options.size || [1600, 1000];
const browser = await chromium.launch({
  executablePath: options.chromium || process.env.CHROMIUM || "/usr/bin/chromium",
  args: FLAGS,
  headless: true,
});
const report = { console_errors: [] };
let page;
try {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") report.console_errors.push(message.text());
  });
  page.on("pageerror", (error) => report.console_errors.push(String(error)));
  report.failed_requests = [];
  page.on("response", (response) => {
    if (response.status() >= 400) {
      report.failed_requests.push(`${response.status()} ${new URL(response.url()).pathname}`);
    }
  });
  // Log in on the start page, as a user arrives, then open the dashboard from there.
  await page.goto(options.url, { waitUntil: "domcontentloaded", timeout: 120_000 });
  await page.locator("home-assistant").waitFor({ state: "attached", timeout: 120_000 });
  await page.waitForFunction(() => !location.search.includes("auth_callback"), null, {
    timeout: 120_000,
  });
  await page.waitForLoadState("networkidle", { timeout: 60_000 }).catch(() => {});
  // Only what the dashboard itself asks for counts from here on.
  report.failed_requests = [];
  report.console_errors = [];
  if (options.path) {
    // As a user does: the dashboard's entry in the sidebar (a reload would log out:
    // this login was not kept). Without a sidebar entry, the frontend's own navigation.
    const link = page.locator(`ha-sidebar a[href="${options.path}"]`);
    if (await link.count()) {
      await link.first().click();
    } else {
      await page.evaluate((target) => {
        history.pushState(null, "", target);
        window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
      }, options.path);
    }
  }

  if (options.add_dialog) {
    // Settings > Dashboards > Add dashboard: the dialog that lists dashboard strategies
    // (Home Assistant 2026.5+ lists custom ones there).
    const fab = page.locator("ha-config-lovelace-dashboards ha-fab");
    await fab.waitFor({ timeout: 120_000 });
    await fab.click();
    const dialog = page.locator("dialog-new-dashboard");
    await dialog.waitFor({ timeout: 60_000 });
    await page.waitForTimeout(2000);
    report.add_dialog_text = await dialog.evaluate((el) =>
      (el.shadowRoot || el).textContent.replace(/\s+/g, " ").trim(),
    );
    report.add_dialog_lists_printfarm = await dialog.getByText("Print farm").count();
    report.screenshot = path.join(options.out, options.shot || "add-dashboard.png");
    await page.screenshot({ path: report.screenshot });
    await browser.close();
    console.log(JSON.stringify(report));
    process.exit(0);
  }

  // The view is drawn once every section has its heading; wait for the cards to settle.
  const headings = page.locator("hui-heading-card");
  await headings.nth((options.expect_sections || 1) - 1).waitFor({ timeout: 120_000 });
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const count = await page.locator("hui-tile-card, hui-button-card, hui-picture-entity-card").count();
    if (count === last && count > 0) break;
    last = count;
    await page.waitForTimeout(500);
  }
  // Let camera stills and thumbnails arrive before the picture is taken.
  await page.waitForLoadState("networkidle", { timeout: 30_000 }).catch(() => {});

  report.sections = await headings.evaluateAll((cards) =>
    cards.map((card) => (card.shadowRoot || card).textContent.replace(/\s+/g, " ").trim()),
  );
  report.tiles = await page.locator("hui-tile-card").count();
  report.buttons = await page.locator("hui-button-card").count();
  report.pictures = await page.locator("hui-picture-entity-card").count();
  report.error_cards = await page.locator("hui-error-card").count();
  report.error_texts = await page.locator("hui-error-card").allInnerTexts();

  if (options.shot) {
    report.screenshot = path.join(options.out, options.shot);
    await page.screenshot({ path: report.screenshot, fullPage: true });
  }
  if (options.press) {
    const section = page
      .locator("hui-grid-section, hui-section")
      .filter({ has: page.locator("hui-heading-card", { hasText: options.press.section }) })
      .first();
    const button = section.locator("hui-button-card").filter({ hasText: options.press.button });
    report.press_candidates = await button.count();
    await button.first().click();
    report.pressed = true;
  }
} catch (error) {
  report.error = String(error && error.stack ? error.stack : error);
  if (page && options.out) {
    // What the user would have seen, for whoever reads the failure.
    report.failure_screenshot = path.join(options.out, "failure.png");
    await page.screenshot({ path: report.failure_screenshot, fullPage: true }).catch(() => {});
    report.url = page.url();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
process.exit(report.error ? 1 : 0);
