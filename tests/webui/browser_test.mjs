// Drives headless Chromium through the web UI of a running cluster:
//   node browser_test.mjs <rest-url> <job-id> <stopped-job-id> <screenshot-dir>
// Every page must load without console errors and show live data from the
// cluster; the cancel button must cancel the first job, the stop button
// stop the second with a savepoint. Exits non-zero on the first failed
// check, naming it.
import { chromium } from 'playwright-core';

const [url, jobId, stoppedId, shots] = process.argv.slice(2);
const TIMEOUT = 20000;
const errors = [];

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  // Only the JobManager is ever asked for anything: the UI works offline.
  page.on('request', (request) => {
    if (!request.url().startsWith(url) && !request.url().startsWith('data:')) {
      errors.push(`request outside the JobManager: ${request.url()}`);
    }
  });

  // Overview: the cluster's two TaskManagers and four slots, the running job.
  await page.goto(`${url}/`);
  await page.waitForSelector('.card');
  // The page refreshes every 2 s: a job accepted a moment ago may show only
  // at the next refresh, so each card is awaited (bounded by TIMEOUT).
  const cardShows = (label, value) => page.waitForFunction(([l, v]) =>
    [...document.querySelectorAll('.card')].some((c) => c.innerText.includes(l)
      && c.querySelector('.value')?.innerText === v), [label, value], { timeout: TIMEOUT })
    .then(() => true, () => false);
  check(await cardShows('TaskManagers', '2'), 'the overview shows both TaskManagers');
  check(await cardShows('Slots total', '4'), 'the overview shows four slots');
  check(await cardShows('Running jobs', '2'), 'the overview shows the running jobs');
  await page.locator('text=slots').first().waitFor();
  check(await page.locator('table >> text=Unbounded').count() > 0, 'recent jobs list the job');
  await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  // Jobs list.
  await page.click('nav >> text=Jobs');
  await page.waitForSelector(`a[href="#/jobs/${jobId}"]`);
  check(true, 'the jobs page links the job');

  // The job: graph, vertices, live counts, subtasks.
  await page.click(`a[href="#/jobs/${jobId}"]`);
  await page.waitForSelector('.graph svg g.vertex');
  check(await page.locator('.graph svg g.vertex').count() === 2, 'the job graph has two vertices');
  // Records out of the source grow as heartbeats bring the TaskManagers' counts.
  const sourceOut = () => page.locator('table').nth(0).locator('tbody tr').first()
    .locator('td').nth(4).innerText();
  await page.waitForFunction(() => {
    const row = document.querySelectorAll('table')[0]?.querySelector('tbody tr');
    const cell = row?.querySelectorAll('td')[4]?.innerText ?? '0';
    return Number(cell.replace(/,/g, '')) > 0;
  }, null, { timeout: TIMEOUT });
  const first = Number((await sourceOut()).replace(/,/g, ''));
  await page.waitForFunction((before) => {
    const row = document.querySelectorAll('table')[0]?.querySelector('tbody tr');
    return Number((row?.querySelectorAll('td')[4]?.innerText ?? '0').replace(/,/g, '')) > before;
  }, first, { timeout: TIMEOUT });
  check(true, `the source's records out are live (over ${first})`);
  check(await page.locator('h2', { hasText: 'subtasks' }).count() === 1, 'subtasks are listed');
  check(await page.locator('text=127.0.0.1:').count() >= 2, 'subtasks name their TaskManagers');
  await page.screenshot({ path: `${shots}/job.png`, fullPage: true });

  // TaskManagers with their slots and who holds them.
  await page.click('nav >> text=TaskManagers');
  await page.waitForSelector('h1:has-text("TaskManagers (2)")');
  check(await page.locator(`a[href="#/jobs/${jobId}"]`).count() >= 2, 'slots name the job holding them');
  await page.screenshot({ path: `${shots}/taskmanagers.png`, fullPage: true });

  // A TaskManager's own logs, fetched from it through the JobManager.
  await page.locator('a.tm-logs').first().click();
  await page.waitForSelector('a[href*="/logs/sluice-taskmanager-"]');
  check(await page.locator('a[href*="/logs/sluice-taskmanager-"]').count() === 2,
    "a TaskManager lists its own .log and .out only");
  await page.locator('a[href$=".log"]').first().click();
  await page.waitForSelector('pre');
  check((await page.locator('pre').innerText()).includes('switched to RUNNING'),
    "the TaskManager's log is shown, naming its tasks");

  await page.click('nav >> text=Tenants');
  await page.waitForSelector('h2:has-text("Tenants")');
  check(await page.locator('td', { hasText: 'default' }).count() > 0, 'the default tenant is listed');

  await page.click('nav >> text=Logs');
  await page.waitForSelector('a[href^="#/logs/sluice-jobmanager"]');
  await page.click('a[href^="#/logs/sluice-jobmanager"]');
  await page.waitForSelector('pre');
  check((await page.locator('pre').innerText()).includes('JobManager'), "the JobManager's log is shown");

  // Cancel from the job's page.
  await page.goto(`${url}/#/jobs/${jobId}`);
  await page.waitForSelector('#cancel:not([disabled])');
  await page.click('#cancel');
  await page.waitForSelector('.toolbar .state.CANCELED', { timeout: TIMEOUT });
  check(true, 'the cancel button cancelled the job');

  // Stop with a savepoint from the other job's page: it finishes, and its
  // checkpoint statistics show the savepoint.
  await page.goto(`${url}/#/jobs/${stoppedId}`);
  await page.waitForSelector('#stop:not([disabled])');
  await page.click('#stop');
  await page.waitForSelector('.toolbar .state.FINISHED', { timeout: TIMEOUT });
  const stats = await (await fetch(`${url}/jobs/${stoppedId}/checkpoints`)).json();
  check(stats.latest?.savepoint?.external_path?.includes(`savepoint-${stoppedId.slice(0, 6)}-`),
    `the stop button stopped the job with a savepoint (${stats.latest?.savepoint?.external_path})`);
  await page.screenshot({ path: `${shots}/stopped.png`, fullPage: true });

  check(errors.length === 0, `no console errors (${errors.join(' | ')})`);
} finally {
  await browser.close();
}
