// Drives headless Chromium through the web UI of a cluster that asks for
// tokens:
//   node browser_auth_test.mjs <rest-url> <own-job-id> <other-job-id> <token>
// The UI must ask for a token once (a prompt), then list the tenant's job and
// not the other tenant's, and cancel the tenant's job with the token.
import { chromium } from 'playwright-core';

const [url, ownJob, otherJob, token] = process.argv.slice(2);
const TIMEOUT = 20000;
const errors = [];
let prompts = 0;

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('dialog', async (dialog) => {
    prompts += 1;
    await dialog.accept(token);
  });
  page.on('console', (msg) => {
    // The first requests' 401 answers are the point: the browser logs them.
    if (msg.type() === 'error' && !msg.text().includes('401')) errors.push(msg.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${url}/#/jobs`);
  await page.waitForSelector(`a[href="#/jobs/${ownJob}"]`);
  check(prompts === 1, `the UI asked for a token once (${prompts})`);
  check(await page.locator(`a[href="#/jobs/${otherJob}"]`).count() === 0,
    "the other tenant's job is not listed");

  await page.click(`a[href="#/jobs/${ownJob}"]`);
  await page.waitForSelector('#cancel:not([disabled])');
  await page.click('#cancel');
  await page.waitForSelector('.toolbar .state.CANCELED', { timeout: TIMEOUT });
  check(true, "the cancel button cancelled the tenant's job with its token");
  check(prompts === 1, 'the token was kept for the tab');
  check(errors.length === 0, `no other console errors (${errors.join(' | ')})`);
} finally {
  await browser.close();
}
