// What both end-to-end scripts share: Debian's Chromium, headless, and how a run ends
// (report.json written, a screenshot of a failure, the browser closed, exit 1 on any error).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

/** Launch the machine's Chromium headless, with the flags a sandboxed CI needs. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Run the scenario; whatever happens, keep the report and close the browser; fail the process on any error. */
export async function run({ report, page, browser, out, after = () => {} }, scenario) {
  try {
    await scenario();
  } catch (e) {
    report.errors.push(`failed: ${e.stack ?? e}`);
    try {
      await page.screenshot({ path: join(out, "failure.png") });
    } catch {}
  } finally {
    writeFileSync(join(out, "report.json"), JSON.stringify(report, null, 2));
    await browser.close();
  }
  after();
  if (report.errors.length) {
    console.error(report.errors.join("\n"));
    process.exit(1);
  }
}
