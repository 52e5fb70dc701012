import { request as httpRequest } from 'node:http';
import { Consumer, Queue, queueKeys } from '@taskq/queue';
import { startApi, type Api } from './test-support/api-app';
import { AppProcess, killAllApps, type LogLine } from './test-support/app-process';
import { closedPort } from './test-support/closed-port';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

// The REST API (issue 15, first part) as users run it: the real app on the
// run's redis-server, on a free port, talked to over HTTP.

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

const ADMIN = 'admin-token-for-the-tests-0001';
const READ = 'read-token-for-the-tests-00001';

/** A request with headers fetch() would not send as given (Host). */
function rawRequest(base: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the API without tokens (127.0.0.1 only)', () => {
  it('says so at start-up; POST a task, GET it, a worker runs it: Done; the OpenAPI document lists every route', async () => {
    const api = await startApi();
    expect(api.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(api.proc.lines.map((l: LogLine) => l.msg)).toContain(
      'no API token configured (TASKQ_API_ADMIN_TOKENS, TASKQ_API_READ_TOKENS or --tokens-file): every request is allowed, so the API listens on 127.0.0.1 only',
    );
    const queue = newQueueName('api');
    const posted = await api.call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep', payload: { ms: 10 }, id: 'job-1', priority: 7 } });
    expect(posted.status).toBe(201);
    expect(posted.json['tasks']).toEqual([{ id: 'job-1', queue, type: 'sleep', enqueuedAt: expect.any(Number) as number, priority: 7 }]);
    // the same id again: idempotent, the task stays as it was
    const again = await api.call('POST', `/queues/${queue}/tasks`, { body: [{ type: 'sleep', payload: { ms: 99 }, id: 'job-1' }, { type: 'sleep', payload: { ms: 10 } }] });
    expect(again.status).toBe(201);
    expect((again.json['tasks'] as { id: string; priority: number }[]).map((t) => [t.id, t.priority])).toEqual([['job-1', 7], ['1', 5]]);
    const queued = await api.call('GET', `/tasks/${queue}/job-1`);
    expect(queued.status).toBe(200);
    expect(queued.json).toMatchObject({ id: 'job-1', queue, type: 'sleep', payload: { ms: 10 }, status: 'Queued', attempt: 0, priority: 7, maxAttempts: 3, history: [] });
    expect(queued.json['result']).toBeUndefined();

    // a task that reports progress (the sleep task does, every 10 % of 2 s): seen while it runs
    await api.call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep', payload: { ms: 2000 }, id: 'slow' } });
    const worker = AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
    const running = await waitUntil(
      async () => {
        const res = await api.call('GET', `/tasks/${queue}/slow`);
        return res.json['progress'] !== undefined && res.json;
      },
      { what: "slow's progress through the API", timeoutMs: 15_000 },
    );
    expect(running).toMatchObject({ status: 'InProgress', progress: { pct: expect.any(Number) as number, done: expect.any(Number) as number, total: 10, at: expect.any(Number) as number } });
    await waitUntil(async () => (await api.call('GET', `/tasks/${queue}/job-1`)).json['status'] === 'Done', { what: 'job-1 Done through the API', timeoutMs: 15_000 });
    await waitUntil(async () => (await api.call('GET', `/tasks/${queue}/slow`)).json['status'] === 'Done', { what: 'slow Done', timeoutMs: 15_000 });
    expect((await api.call('GET', `/tasks/${queue}/slow`)).json['progress']).toBeUndefined();
    const done = await api.call('GET', `/tasks/${queue}/job-1`);
    expect(done.json).toMatchObject({ status: 'Done', attempt: 1, worker: expect.stringMatching(/^worker-\d+-\d$/) as string });
    // the sleep handler's return value, stored with its Done record
    expect(done.json['result']).toEqual({ sleptMs: 10 });
    expect((await api.call('GET', `/tasks/${queue}/slow`)).json['result']).toEqual({ sleptMs: 2000 });
    // the worker, registered: GET /queues lists it with its last heartbeat
    type Summary = { queue: string; workerList: { id: string; lastHeartbeatAt: number }[]; throughput: { at: number; done: number; failed: number }[] };
    const summaryOf = async (): Promise<Summary | undefined> => ((await api.call('GET', '/queues')).json['queues'] as Summary[]).find((q) => q.queue === queue);
    const serving = await summaryOf();
    expect(serving?.workerList).toEqual([{ id: expect.any(String) as string, lastHeartbeatAt: expect.any(Number) as number }]);
    expect(Math.abs((serving?.workerList[0]?.lastHeartbeatAt ?? 0) - Date.now())).toBeLessThan(10_000);
    worker.signal('SIGTERM');
    await worker.waitForExit(15_000);

    const listed = await api.call('GET', '/queues');
    const summary = (listed.json['queues'] as Summary[]).find((q) => q.queue === queue);
    expect(summary).toMatchObject({ queue, ready: 0, inProgress: 0, doneKept: 3, workers: 0, workerList: [] });
    // throughput: the last 15 minutes, oldest first, a minute apart; the three tasks Done among them
    expect(summary?.throughput).toHaveLength(15);
    const minutes = (summary?.throughput ?? []).map((m) => m.at);
    expect(minutes.every((at, i) => at % 60_000 === 0 && (i === 0 || at - (minutes[i - 1] ?? 0) === 60_000))).toBe(true);
    expect((summary?.throughput ?? []).reduce((sum, m) => sum + m.done, 0)).toBe(3);
    expect((summary?.throughput ?? []).reduce((sum, m) => sum + m.failed, 0)).toBe(0);

    const doc = await api.call('GET', '/openapi.json');
    expect(doc.json['openapi']).toBe('3.1.0');
    expect(Object.keys(doc.json['paths'] as object).sort()).toEqual(
      ['/events', '/flows', '/flows/{id}', '/flows/{id}/cancel', '/healthz', '/queues', '/queues/{queue}/dead/requeue', '/queues/{queue}/tasks', '/readyz', '/tasks/{queue}/{id}', '/tasks/{queue}/{id}/cancel', '/tasks/{queue}/{id}/retry', '/whoami'].sort(),
    );
    const list = (doc.json['paths'] as Record<string, Record<string, { parameters: { name: string; in: string; required: boolean }[] }>>)['/queues/{queue}/tasks']?.['get'];
    expect(list?.parameters.map((p) => [p.name, p.in, p.required])).toEqual([['queue', 'path', true], ['status', 'query', true], ['cursor', 'query', false], ['limit', 'query', false]]);
    // the task's result in the OpenAPI doc: any JSON, optional
    type Op = { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, { description?: string }>; required: string[] } }> }> };
    const shown = (doc.json['paths'] as Record<string, Record<string, Op>>)['/tasks/{queue}/{id}']?.['get']?.responses['200']?.content['application/json']?.schema;
    expect(shown?.properties['result']?.description).toMatch(/^the value its handler returned/);
    expect(shown?.required).not.toContain('result');
    const post = (doc.json['paths'] as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>)['/queues/{queue}/tasks']?.['post'];
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '413']));
    expect(JSON.stringify(post?.requestBody)).toContain('"maxItems":1000');
    expect((await api.call('GET', '/healthz')).text).toBe('ok\n');
    expect((await api.call('GET', '/readyz')).text).toBe('ready\n');
    // no token configured: this machine only. Another Host (DNS rebinding) and a change from a page of another origin: 403
    const rebound = await rawRequest(api.base, 'GET', '/queues', { host: 'evil.example' });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('only requests to 127.0.0.1 or localhost are served');
    const crossSite = await rawRequest(api.base, 'POST', `/tasks/${queue}/job-1/retry`, { origin: 'https://elsewhere.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain('a page of another origin (https://elsewhere.example) may not change anything here');
    expect((await rawRequest(api.base, 'POST', `/tasks/${queue}/job-1/retry`, { origin: api.base })).status).toBe(409); // its own page: served (job-1 is Done)
    // no token configured: every request is an admin's; the dashboard's page and modules are served with a strict CSP
    expect((await api.call('GET', '/whoami')).json).toEqual({ role: 'admin', auth: false });
    const page = await api.call('GET', '/');
    expect(page.text).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    for (const asset of ['/ui/app.js', '/ui/events.js', '/ui/vendor/preact-htm.js', '/ui/vendor/uplot.js']) {
      const res = await fetch(`${api.base}${asset}`);
      expect([asset, res.status, res.headers.get('content-type')]).toEqual([asset, 200, 'text/javascript; charset=utf-8']);
    }
  }, 60_000);

  it('cancel, retry a Dead or Failed task, requeue the dead: 200/404/409 as documented', async () => {
    const api = await startApi();
    const queue = newQueueName('api-ops');
    await api.call('POST', `/queues/${queue}/tasks`, {
      body: [
        { type: 'sleep', payload: { ms: 5 }, id: 'later', delayMs: 60_000 },
        { type: 'sleep', payload: { ms: 5, failAttempts: 9 }, id: 'doomed', maxAttempts: 1 },
        { type: 'sleep', payload: { ms: 5, failAttempts: 9 }, id: 'doomed-2', maxAttempts: 1 },
        { type: 'no-such-type', id: 'orphan' },
      ],
    });
    const cancelled = await api.call('POST', `/tasks/${queue}/later/cancel`);
    expect({ status: cancelled.status, json: cancelled.json }).toEqual({ status: 200, json: { id: 'later', outcome: 'cancelled', status: 'Cancelled', cancelled: true } });
    expect((await api.call('POST', `/tasks/${queue}/nope/cancel`)).status).toBe(404);

    const worker = AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
    await waitUntil(async () => (await api.call('GET', `/queues`)).json['queues'] !== undefined && (await new Queue({ queue, connection: await clients.connect() }).deadIds()).length === 2, {
      what: 'both doomed tasks Dead',
      timeoutMs: 15_000,
    });
    await waitUntil(async () => (await api.call('GET', `/tasks/${queue}/orphan`)).json['status'] === 'Failed', { what: 'orphan Failed', timeoutMs: 15_000 });
    const dead = await api.call('GET', `/tasks/${queue}/doomed`);
    expect(dead.json).toMatchObject({ status: 'Dead', attempt: 1, lastError: 'planned failure of attempt 1 (fails 9)' });
    expect(dead.json['history']).toHaveLength(1);
    const conflict = await api.call('POST', `/tasks/${queue}/later/retry`);
    expect({ status: conflict.status, message: conflict.json['message'] }).toEqual({ status: 409, message: 'task later is Cancelled: only a Dead or Failed task can be retried' });
    worker.signal('SIGTERM');
    await worker.waitForExit(15_000);
    // two Dead and one Failed: three failed attempts, nothing Done
    const summary = ((await api.call('GET', '/queues')).json['queues'] as { queue: string; throughput: { done: number; failed: number }[] }[]).find((q) => q.queue === queue);
    expect({ done: summary?.throughput.reduce((sum, m) => sum + m.done, 0), failed: summary?.throughput.reduce((sum, m) => sum + m.failed, 0) }).toEqual({ done: 0, failed: 3 });
    const retried = await api.call('POST', `/tasks/${queue}/doomed/retry`);
    expect({ status: retried.status, json: retried.json }).toEqual({ status: 200, json: { id: 'doomed', status: 'Queued' } });
    // a Failed task (no handler for its type) runs again too
    expect((await api.call('POST', `/tasks/${queue}/orphan/retry`)).json).toEqual({ id: 'orphan', status: 'Queued' });
    expect((await api.call('GET', `/tasks/${queue}/orphan`)).json['status']).toBe('Queued');
    const all = await api.call('POST', `/queues/${queue}/dead/requeue`, { body: { all: true } });
    expect({ status: all.status, json: all.json }).toEqual({ status: 200, json: { requeued: 1 } });
    const redis = await clients.connect();
    expect((await redis.lrange(queueKeys(queue).ready, 0, -1)).sort()).toEqual(['doomed', 'doomed-2', 'orphan']);
  }, 60_000);

  it('GET /queues/{queue}/tasks: a page of one status and the next with its cursor, stable while tasks come and go; 400 naming the field for a bad status, limit or cursor', async () => {
    const api = await startApi();
    const queue = newQueueName('api-list');
    const redis = await clients.connect();
    const q = new Queue({ queue, connection: redis });
    // five Dead tasks (d0 died first), by a consumer of the test's own
    const consumer = new Consumer({ queue, connection: redis, id: `${queue}-c` });
    await consumer.register();
    const dead = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `d${from + i}`);
    const kill = async (ids: string[]) => {
      await q.enqueueMany(ids.map((id, i) => ({ id, type: 'sleep', payload: { n: i }, maxAttempts: 1 })));
      const { tasks } = await consumer.fetch(ids.map((_, i) => `it-w-${i}`));
      for (const t of tasks) expect(await consumer.fail(t.id, t.worker, t.token, { mode: 'dead', reason: 'boom' })).toBe('Dead');
    };
    await kill(dead(5));

    const page1 = await api.call('GET', `/queues/${queue}/tasks?status=Dead&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.json).toEqual({
      tasks: [
        { id: 'd4', status: 'Dead', attempt: 1, at: expect.any(Number) as number, type: 'sleep', enqueuedAt: expect.any(Number) as number, priority: 5, worker: 'it-w-4', reason: 'boom', payload: { n: 4 } },
        expect.objectContaining({ id: 'd3', status: 'Dead' }),
      ],
      nextCursor: expect.stringMatching(/^[A-Za-z0-9_-]+$/) as string,
    });
    // meanwhile a task dies (the new end) and d2 is retried (it leaves the list): the next pages go on after d3
    await kill(['d5']);
    expect((await api.call('POST', `/tasks/${queue}/d2/retry`)).status).toBe(200);
    const cursor = encodeURIComponent(String(page1.json['nextCursor']));
    await q.enqueueMany([
      { id: 'later', type: 'sleep', payload: { ms: 1 }, delayMs: 60_000 },
      { id: 'now', type: 'sleep', payload: { ms: 1 }, priority: 7 },
    ]);
    const page2 = await api.call('GET', `/queues/${queue}/tasks?status=Dead&limit=2&cursor=${cursor}`);
    expect({ ids: (page2.json['tasks'] as { id: string }[]).map((t) => t.id), next: page2.json['nextCursor'] }).toEqual({ ids: ['d1', 'd0'], next: undefined });

    const queued = await api.call('GET', `/queues/${queue}/tasks?status=Queued`);
    expect((queued.json['tasks'] as { id: string }[]).map((t) => t.id)).toEqual(['now', 'd2']);
    const delayed = await api.call('GET', `/queues/${queue}/tasks?status=Delayed`);
    expect(delayed.json).toEqual({ tasks: [expect.objectContaining({ id: 'later', status: 'Delayed', attempt: 0, runAt: expect.any(Number) as number })] });
    expect((await api.call('GET', `/queues/${queue}/tasks?status=Done`)).json).toEqual({ tasks: [] });

    const bad: [string, string, RegExp][] = [
      ['status=Running', 'querystring.status', /^querystring\.status must be equal to one of the allowed values$/],
      ['limit=5', 'querystring.status', /^querystring\.status is required$/],
      ['status=Dead&limit=0', 'querystring.limit', /^querystring\.limit must be >= 1$/],
      ['status=Dead&limit=501', 'querystring.limit', /^querystring\.limit must be <= 500$/],
      ['status=Dead&limit=many', 'querystring.limit', /^querystring\.limit must be integer$/],
      ['status=Dead&bogus=1', 'querystring.bogus', /^querystring\.bogus is not a field of this object$/],
      ['status=Dead&cursor=not-a-cursor', 'querystring.cursor', /^querystring\.cursor is not valid: not a cursor of taskq \(give back the nextCursor of the page before, or none for the first page\)$/],
      [`status=Done&cursor=${cursor}`, 'querystring.cursor', /it pages through the Dead tasks, not the Done ones/],
    ];
    for (const [query, field, message] of bad) {
      const res = await api.call('GET', `/queues/${queue}/tasks?${query}`);
      expect({ query, status: res.status, field: res.json['field'] }).toEqual({ query, status: 400, field });
      expect(res.json['message']).toMatch(message);
      expect(res.text).not.toMatch(/\n\s+at |node_modules/);
    }
    await consumer.unregister();
  }, 60_000);

  it('bad requests: 400 naming the field, 404, 413, 415 — JSON, never a stack trace; nothing enqueued', async () => {
    const api = await startApi(['--body-limit', '2048']);
    const queue = newQueueName('api-bad');
    const cases: [unknown, number, string | undefined, RegExp][] = [
      [[{ type: 'sleep', priority: 12 }], 400, 'body.0.priority', /^body\.0\.priority must be <= 9$/],
      [{ type: 'sleep', bogus: 1 }, 400, 'body.bogus', /^body\.bogus is not a field of this object$/],
      [{ payload: 1 }, 400, 'body.type', /^body\.type is required$/],
      [[], 400, 'body', /must NOT have fewer than 1 items/],
      [{ type: 'sleep', id: 'bad id' }, 400, undefined, /task id must be 1-256 characters .*a space at index 3/],
      [{ type: 'sleep', delayMs: 5, runAt: 6 }, 400, undefined, /give delayMs or runAt, not both/],
      [{ type: 'sleep', payload: 'x'.repeat(3000) }, 413, undefined, /the request body is larger than 2048 bytes/],
    ];
    for (const [body, status, field, message] of cases) {
      const res = await api.call('POST', `/queues/${queue}/tasks`, { body });
      expect({ body, status: res.status, field: res.json['field'] }).toEqual({ body, status, field });
      expect(res.json['message']).toMatch(message);
      expect(res.text).not.toMatch(/\n\s+at |node_modules/);
    }
    expect((await api.call('POST', `/queues/${queue}/tasks`, { raw: '{"type":' })).status).toBe(400);
    expect((await api.call('POST', `/queues/bad%20name/tasks`, { body: { type: 'x' } })).json).toMatchObject({ statusCode: 400, field: 'params.queue' });
    expect((await api.call('GET', `/tasks/${queue}/none`)).json).toEqual({ statusCode: 404, error: 'Not Found', message: `no task none in queue ${queue}` });
    expect((await api.call('GET', '/nowhere')).status).toBe(404);
    const redis = await clients.connect();
    expect(await redis.exists(queueKeys(queue).tasks)).toBe(0);
  }, 60_000);
});

describe('long path parameters', () => {
  it('a task id of 256 characters (non-ASCII, percent-encoded: 1,536 in the path) and a queue name of 200: GET, cancel; 257 characters: 414, JSON', async () => {
    const api = await startApi();
    const queue = newQueueName('api-long').padEnd(200, 'q');
    const id = 'é'.repeat(256);
    const posted = await api.call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep', id, delayMs: 60_000 } });
    expect(posted.status).toBe(201);
    const got = await api.call('GET', `/tasks/${queue}/${encodeURIComponent(id)}`);
    expect({ status: got.status, id: got.json['id'], statusName: got.json['status'] }).toEqual({ status: 200, id, statusName: 'Delayed' });
    const cancelled = await api.call('POST', `/tasks/${queue}/${encodeURIComponent(id)}/cancel`);
    expect({ status: cancelled.status, outcome: cancelled.json['outcome'] }).toEqual({ status: 200, outcome: 'cancelled' });
    const tooLong = await api.call('GET', `/tasks/${queue}/${'x'.repeat(257)}`);
    expect({ status: tooLong.status, statusCode: tooLong.json['statusCode'] }).toEqual({ status: 414, statusCode: 414 });
    expect(tooLong.text).not.toMatch(/\n\s+at |node_modules/);
  }, 30_000);
});

describe('the API with tokens', () => {
  it('401 without or with a wrong token, 403 for a read token on an admin route, health checks open; listens on 0.0.0.0', async () => {
    const api = await startApi([], { TASKQ_API_ADMIN_TOKENS: ADMIN, TASKQ_API_READ_TOKENS: READ });
    expect(api.base).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    const local = { ...api, base: api.base.replace('0.0.0.0', '127.0.0.1') };
    const call: Api['call'] = (method, path, options = {}) => api.call.call(local, method, path, options);
    const queue = newQueueName('api-auth');
    const none = await call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep' } });
    expect({ status: none.status, auth: none.headers.get('www-authenticate'), message: none.json['message'] }).toEqual({
      status: 401,
      auth: 'Bearer realm="taskq"',
      message: 'a bearer token is required (Authorization: Bearer <token>)',
    });
    expect((await call('GET', `/queues`, { token: `${READ}x` })).status).toBe(401);
    const readOnly = await call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep' }, token: READ });
    expect({ status: readOnly.status, message: readOnly.json['message'] }).toEqual({ status: 403, message: 'this token is read-only; an admin token is required' });
    expect((await call('POST', `/queues/${queue}/tasks`, { body: { type: 'sleep', id: 'a' }, token: ADMIN })).status).toBe(201);
    expect((await call('GET', `/tasks/${queue}/a`, { token: READ })).json['status']).toBe('Queued');
    expect((await call('GET', `/tasks/${queue}/a`, { token: ADMIN })).status).toBe(200);
    expect((await call('GET', `/queues/${queue}/tasks?status=Queued`, { token: READ })).json).toEqual({ tasks: [expect.objectContaining({ id: 'a', status: 'Queued' })] });
    expect((await call('GET', `/queues/${queue}/tasks?status=Queued`)).status).toBe(401);
    expect((await call('GET', '/healthz')).status).toBe(200);
    // the dashboard asks which buttons to show
    expect((await call('GET', '/whoami', { token: READ })).json).toEqual({ role: 'read', auth: true });
    expect((await call('GET', '/whoami', { token: ADMIN })).json).toEqual({ role: 'admin', auth: true });
    expect((await call('GET', '/whoami')).status).toBe(401);
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    // CORS off: no Access-Control-* header, even to a request from another origin
    const cross = await fetch(`${local.base}/tasks/${queue}/a`, { headers: { authorization: `Bearer ${READ}`, origin: 'https://elsewhere.example' } });
    expect([...cross.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  }, 30_000);
});

describe('API start-up refusals', () => {
  it('no token and --host 0.0.0.0: exit 2 saying why; a short token: exit 2; unreachable Redis: exit 1 naming the address', async () => {
    const open = AppProcess.start('api', ['--host', '0.0.0.0', '--port', '0', '--redis', testRedisUrl()]);
    expect((await open.waitForExit(10_000)).code).toBe(2);
    expect(open.stderr).toContain('no API token is configured: refusing to listen on 0.0.0.0');
    const short = AppProcess.start('api', ['--port', '0', '--redis', testRedisUrl()], { env: { TASKQ_API_ADMIN_TOKENS: 'short' } });
    expect((await short.waitForExit(10_000)).code).toBe(2);
    expect(short.stderr).toContain('an API token must be at least 16 characters');
    expect(short.stderr).not.toContain('short,');
    const port = await closedPort();
    const down = AppProcess.start('api', ['--port', '0', '--redis', `redis://:secret@127.0.0.1:${port}`, '--connect-timeout-ms', '1000']);
    expect((await down.waitForExit(15_000)).code).toBe(1);
    const output = `${down.stderr}${down.stdoutLines.join('\n')}`;
    expect(output).toContain(`127.0.0.1:${port}`);
    expect(output).not.toContain('secret');
  }, 60_000);
});
