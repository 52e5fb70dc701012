import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Queue } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { closedPort } from './test-support/closed-port';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

// The dashboard (issue 15) end to end, as a user sees it: the real API app
// serves it, a real worker runs the tasks, and headless Chromium (Debian's
// `chromium` package, driven by playwright-core) clicks through it. Set
// TASKQ_CHROMIUM to use another Chromium binary; TASKQ_SCREENSHOTS=<dir>
// saves the README's screenshots of the main views on the way.

const CHROMIUM = process.env['TASKQ_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOTS = process.env['TASKQ_SCREENSHOTS'];
const ADMIN = 'admin-token-for-the-dashboard-01';
const READ = 'read-token-for-the-dashboard-001';

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard tests need headless Chromium at ${CHROMIUM}: apt-get install -y chromium (Debian), or set TASKQ_CHROMIUM to its path`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
});

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

async function startApi(): Promise<string> {
  return (await startApiProcess(['--port', '0', '--host', '127.0.0.1'], { TASKQ_API_ADMIN_TOKENS: ADMIN, TASKQ_API_READ_TOKENS: READ })).base;
}

async function startApiProcess(args: string[], env: Record<string, string> = {}): Promise<{ proc: AppProcess; base: string }> {
  const proc = AppProcess.start('api', [...args, '--redis', testRedisUrl()], { env });
  const ready = await proc.waitForLine(line.msgStarts('API on http://'), 'the API-ready line', 20_000);
  return { proc, base: /^API on (http:\/\/\S+)/.exec(ready.msg)?.[1] ?? '' };
}

async function post(base: string, path: string, body: unknown, token = ADMIN): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function taskStatus(base: string, queue: string, id: string): Promise<unknown> {
  const res = await fetch(`${base}/tasks/${queue}/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return ((await res.json()) as { status?: unknown }).status;
}

/** A page that fails the test on any script error or dialog (an alert() from a payload would be one). */
async function openPage(problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

async function signIn(page: Page, base: string, hash: string, token: string): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-live="live"]').waitFor({ timeout: 15_000 });
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe('the dashboard in headless Chromium', () => {
  it('admin: an enqueued task appears and turns Done live, its progress shows, cancel / retry / requeue-all-dead from the UI, paging and search, payloads are text', async () => {
    const base = await startApi();
    const queue = newQueueName('dash');
    AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
    const problems: string[] = [];
    const page = await openPage(problems);

    // without a token: the sign-in form, and nothing else
    await page.goto(`${base}/#/queue/${queue}/Done`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.locator('table').count()).toBe(0);
    await page.getByLabel('Token').fill('not-a-valid-token-at-all-000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the bearer token is not valid' }).waitFor();

    await signIn(page, base, `#/queue/${queue}/Done`, ADMIN);
    await page.locator('[data-role="admin"]').waitFor();

    // enqueued through the API while the page is open: it shows in the live feed and in the Done list, without a reload
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    expect((await post(base, `/queues/${queue}/tasks`, { type: 'sleep', payload: { ms: 300 }, id: 'live-1' })).status).toBe(201);
    await page.locator('[data-feed="live-1"] [data-status="InProgress"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-task="live-1"] [data-status="Done"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-feed="live-1"] [data-status="Done"]').waitFor();
    expect(navigations).toEqual([]);
    await shot(page, 'queue');

    // a long task's progress, live on its page; then Done there too
    expect((await post(base, `/queues/${queue}/tasks`, { type: 'sleep', payload: { ms: 3000 }, id: 'slow-1' })).status).toBe(201);
    await page.goto(`${base}/#/task/${queue}/slow-1`);
    const pct = page.locator('[data-progress]');
    await pct.waitFor({ timeout: 15_000 });
    await waitUntil(async () => Number(await pct.getAttribute('data-progress')) >= 20, { what: 'progress of at least 20 % on the page', timeoutMs: 15_000 });
    await shot(page, 'task-running');
    await page.locator('dl [data-status="Done"]').waitFor({ timeout: 15_000 });
    // its result (the sleep task returns { sleptMs }), as text
    await page.locator('pre.result').waitFor();
    expect(JSON.parse((await page.locator('pre.result').textContent()) ?? '')).toEqual({ sleptMs: 3000 });

    // cancel from the UI: a task due in an hour is Cancelled, on the page and in Redis
    expect((await post(base, `/queues/${queue}/tasks`, { type: 'sleep', payload: { ms: 10 }, id: 'later-1', delayMs: 3_600_000 })).status).toBe(201);
    await page.goto(`${base}/#/task/${queue}/later-1`);
    await page.locator('dl [data-status="Delayed"]').waitFor();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.locator('dl [data-status="Cancelled"]').waitFor();
    expect(await taskStatus(base, queue, 'later-1')).toBe('Cancelled');
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);

    // a Dead task: its error on its page, Retry task runs it again (attempts from zero: it fails again, a second entry
    // in its history); Requeue all dead on the Dead tab does the same for every dead task
    expect((await post(base, `/queues/${queue}/tasks`, { type: 'sleep', payload: { ms: 10, failAttempts: 9 }, id: 'bad-1', maxAttempts: 1 })).status).toBe(201);
    await page.goto(`${base}/#/task/${queue}/bad-1`);
    await page.locator('dl [data-status="Dead"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('table.history tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: 'Retry task' }).click();
    await page.getByRole('status').filter({ hasText: 'Queued again' }).waitFor();
    await page.locator('table.history tbody tr').nth(1).waitFor({ timeout: 15_000 });
    await page.locator('dl [data-status="Dead"]').waitFor({ timeout: 15_000 });
    await page.goto(`${base}/#/queue/${queue}/Dead`);
    await page.locator('tr[data-task="bad-1"]').waitFor();
    await page.getByRole('button', { name: 'Requeue all dead' }).click();
    await page.getByRole('status').filter({ hasText: '1 dead task(s) queued again' }).waitFor();
    await waitUntil(async () => ((await (await fetch(`${base}/tasks/${queue}/bad-1`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { history: unknown[] }).history.length === 3, {
      what: 'bad-1 run a third time',
      timeoutMs: 15_000,
    });

    // paging: 30 tasks due in an hour (plus later-1's neighbours): 25 on the first page, the rest on the next
    expect((await post(base, `/queues/${queue}/tasks`, Array.from({ length: 30 }, (_, i) => ({ type: 'sleep', id: `page-${String(i).padStart(2, '0')}`, delayMs: 3_600_000 + i })))).status).toBe(201);
    await page.goto(`${base}/#/queue/${queue}/Delayed`);
    await page.locator('tr[data-task="page-00"]').waitFor();
    expect(await page.locator('table.tasks tbody tr').count()).toBe(25);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.locator('tr[data-task="page-29"]').waitFor();
    expect(await page.locator('table.tasks tbody tr').count()).toBe(5);
    expect(await page.getByRole('button', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('button', { name: 'First page' }).click();
    await page.locator('tr[data-task="page-00"]').waitFor();

    // search by id
    await page.getByLabel('Task id').fill('live-1');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('dl [data-status="Done"]').waitFor();

    // user data is text: a payload and a type with markup are shown as written and nothing in them runs
    const evil = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2; alert(2)">';
    expect((await post(base, `/queues/${queue}/tasks`, { type: `<img src=y onerror="window.__xss = 3">`, payload: { note: evil }, id: 'xss-1', delayMs: 1_800_000 })).status).toBe(201);
    await page.goto(`${base}/#/task/${queue}/xss-1`);
    await page.locator('pre.payload').waitFor();
    expect(await page.locator('pre.payload').textContent()).toContain(JSON.stringify(evil).slice(1, -1));
    expect(await page.locator('dl').textContent()).toContain('<img src=y onerror="window.__xss = 3">');
    await page.goto(`${base}/#/queue/${queue}/Delayed`);
    await page.locator('tr[data-task="xss-1"]').waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();

    await page.goto(`${base}/#/`);
    await page.locator(`tr[data-queue="${queue}"]`).waitFor();
    await shot(page, 'queues');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('flows: a flow added through the API shows in the Flows list and turns FlowDone live on its page with its results; Cancel flow stops a running one; step data is text', async () => {
    const base = await startApi();
    const queue = newQueueName('dashflow');
    AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
    const problems: string[] = [];
    const page = await openPage(problems);
    await signIn(page, base, '#/flows', ADMIN);

    // added while the list is open: it appears (a flow event), then its page follows it to FlowDone
    const steps = [
      { name: 'fetch', queue, type: 'sleep', payload: { ms: 400 } },
      { name: 'store', queue, type: 'sleep', payload: { ms: 300 }, dependsOn: ['fetch'] },
    ];
    expect((await post(base, '/flows', { id: 'dash-flow-1', steps })).status).toBe(201);
    await page.locator('tr[data-flow="dash-flow-1"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-flow="dash-flow-1"] a').click();
    await page.locator('tr[data-step="fetch"]').waitFor();
    await page.locator('dl [data-status="FlowDone"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-step="store"] [data-status="Done"]').waitFor();
    expect(await page.locator('[data-done]').first().getAttribute('data-done')).toBe('2');
    expect(JSON.parse((await page.locator('tr[data-step="store"] pre.result').textContent()) ?? '')).toEqual({ sleptMs: 300, totalMs: 700 });
    await shot(page, 'flow');
    // back in the list, its progress is 2/2
    await page.goto(`${base}/#/flows`);
    await page.locator('tr[data-flow="dash-flow-1"] [data-status="FlowDone"]').waitFor();

    // Cancel flow: its running step is stopped, the next never runs
    const long = [
      { name: 'long', queue, type: 'sleep', payload: { ms: 60_000 } },
      { name: 'after', queue, type: 'sleep', payload: { ms: 10 }, dependsOn: ['long'] },
    ];
    expect((await post(base, '/flows', { id: 'dash-flow-2', steps: long })).status).toBe(201);
    await page.goto(`${base}/#/flow/dash-flow-2`);
    await page.locator('tr[data-step="long"] [data-status="InProgress"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel flow' }).click();
    await page.locator('dl [data-status="FlowCancelled"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-step="after"] [data-status="Cancelled"]').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel flow' }).count()).toBe(0);

    // markup in a step's type and its error (no handler for that type: the step is Failed, the flow too) is text
    const evil = '<img src=z onerror="window.__xss = 4">';
    expect((await post(base, '/flows', { id: 'dash-flow-3', steps: [{ name: 'odd', queue, type: evil }] })).status).toBe(201);
    await page.goto(`${base}/#/flow/dash-flow-3`);
    await page.locator('dl [data-status="FlowFailed"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('table.steps').textContent()).toContain(evil);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('read-only: no admin buttons, and the API answers 403 when the page tries', async () => {
    const base = await startApi();
    const queue = newQueueName('dashro');
    expect((await post(base, `/queues/${queue}/tasks`, { type: 'sleep', payload: { ms: 10 }, id: 'later-1', delayMs: 3_600_000 })).status).toBe(201);
    const problems: string[] = [];
    const page = await openPage(problems);
    await signIn(page, base, `#/task/${queue}/later-1`, READ);
    await page.locator('[data-role="read"]').waitFor();
    await page.locator('dl [data-status="Delayed"]').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Retry task' }).count()).toBe(0);
    await page.goto(`${base}/#/queue/${queue}/Dead`);
    await page.getByText('No Dead task.').waitFor();
    expect(await page.getByRole('button', { name: 'Requeue all dead' }).count()).toBe(0);

    // the page's own token, used for an admin call: refused
    const refused = await page.evaluate(
      async ([q, token]) => {
        const res = await fetch(`/tasks/${q}/later-1/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, body: (await res.json()) as { message?: string } };
      },
      [queue, READ] as const,
    );
    expect(refused).toEqual({ status: 403, body: expect.objectContaining({ message: 'this token is read-only; an admin token is required' }) as unknown });
    expect(await taskStatus(base, queue, 'later-1')).toBe('Delayed');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('without tokens: no sign-in and the admin buttons; after the API restarts the page resumes its stream and shows what changed meanwhile', async () => {
    const port = await closedPort();
    const first = await startApiProcess(['--port', String(port)]);
    const queue = newQueueName('dashopen');
    const problems: string[] = [];
    const page = await openPage(problems);
    await page.goto(`${first.base}/#/queue/${queue}/Done`);
    await page.locator('[data-live="live"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-role="admin"]').waitFor();
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
    expect(await page.getByText('no tokens configured: local access only').count()).toBe(1);
    const q = new Queue({ queue, connection: await clients.connect() });
    await q.enqueue({ id: 'before', type: 'sleep', payload: { ms: 10 }, delayMs: 3_600_000 });
    await page.locator('[data-feed="before"] [data-status="Delayed"]').waitFor({ timeout: 15_000 });

    // the API goes away: the page says so; meanwhile a task is enqueued and run to Done, another cancelled
    first.proc.signal('SIGTERM');
    expect((await first.proc.waitForExit(10_000)).code).toBe(0);
    await page.locator('[data-live="reconnecting"]').waitFor({ timeout: 15_000 });
    await q.enqueue({ id: 'while-away', type: 'sleep', payload: { ms: 10 } });
    await q.cancel('before');
    const worker = AppProcess.start('worker', ['1', '--queue', queue, '--redis', testRedisUrl()]);
    await waitUntil(async () => (await q.status('while-away'))?.status === 'Done', { what: 'while-away Done', timeoutMs: 15_000 });
    worker.signal('SIGTERM');
    await worker.waitForExit(15_000);

    // back on the same port: the page reconnects with its Last-Event-ID and the replay brings both changes, without a reload
    await startApiProcess(['--port', String(port)]);
    await page.locator('[data-live="live"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-feed="while-away"] [data-status="Done"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-feed="before"] [data-status="Cancelled"]').waitFor();
    await page.locator('tr[data-task="while-away"] [data-status="Done"]').waitFor();
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);
});
