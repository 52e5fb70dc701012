import { randomBytes } from 'node:crypto';
import { Queue } from '@taskq/queue';
import { startApi, type Api } from './test-support/api-app';
import { AppProcess, killAllApps } from './test-support/app-process';
import { newQueueName, testRedisUrl } from './test-support/redis-fixture';
import { closeAllSse, SseClient } from './test-support/sse-client';
import { waitUntil } from './test-support/wait';

// Flows through the REST API: the real app on the run's redis-server, the
// real worker app running the steps (its `sleep` task: result { sleptMs },
// `failAttempts` makes an attempt fail).

const queues: Queue[] = [];

afterEach(async () => {
  await closeAllSse();
  await killAllApps();
  for (const q of queues.splice(0)) await q.close();
});

const ADMIN = 'admin-token-for-the-flows-001';
const READ = 'read-token-for-the-flows-0001';

interface Step {
  name: string;
  queue: string;
  taskId: string;
  status: string;
  dependsOn: string[];
  result?: unknown;
  error?: string;
  task?: { status: string };
}
interface Flow {
  id: string;
  status: string;
  done: number;
  failed: number;
  cancelled: number;
  total: number;
  createdAt: number;
  endedAt?: number;
  reason?: string;
  steps: Step[];
}

const flowId = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

async function flowOf(api: Api, id: string, token?: string): Promise<Flow> {
  const res = await api.call('GET', `/flows/${id}`, { token });
  expect({ id, status: res.status }).toEqual({ id, status: 200 });
  return res.json as unknown as Flow;
}

async function waitForFlow(api: Api, id: string, status: string): Promise<Flow> {
  let last: Flow | undefined;
  return waitUntil(
    async () => {
      last = await flowOf(api, id);
      return last.status === status && last;
    },
    { what: `flow ${id} ${status}`, timeoutMs: 20_000, details: () => JSON.stringify(last) },
  );
}

function startWorker(queue: string): AppProcess {
  return AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
}

describe('flows through the API (no tokens)', () => {
  it('POST /flows (a diamond DAG) 201, the same id again 200 created false; a worker runs it: GET /flows/{id} FlowDone with every result; a failing step fails the flow; GET /flows lists both with their state', async () => {
    const api = await startApi();
    const queue = newQueueName('api-flow');
    const id = flowId('diamond');
    const body = {
      id,
      queue,
      steps: [
        { name: 'start', type: 'sleep', payload: { ms: 1 } },
        { name: 'left', type: 'sleep', payload: { ms: 2 }, dependsOn: ['start'] },
        { name: 'right', type: 'sleep', payload: { ms: 3 }, dependsOn: ['start'], priority: 7, maxAttempts: 2 },
        { name: 'join', type: 'sleep', payload: { ms: 4 }, dependsOn: ['left', 'right'] },
      ],
    };
    const added = await api.call('POST', '/flows', { body });
    expect({ status: added.status, json: added.json }).toEqual({
      status: 201,
      json: {
        id,
        created: true,
        steps: [
          { name: 'start', queue, taskId: `${id}:start`, dependsOn: [] },
          { name: 'left', queue, taskId: `${id}:left`, dependsOn: ['start'] },
          { name: 'right', queue, taskId: `${id}:right`, dependsOn: ['start'] },
          { name: 'join', queue, taskId: `${id}:join`, dependsOn: ['left', 'right'] },
        ],
      },
    });
    // before any worker: the root is Released (its task Queued), the others wait
    const waiting = await flowOf(api, id);
    expect(waiting).toMatchObject({ id, status: 'FlowRunning', policy: 'failFast', done: 0, failed: 0, cancelled: 0, total: 4, seq: 1 });
    expect(waiting.endedAt).toBeUndefined();
    expect(waiting.steps.map((s) => [s.name, s.status, s.task?.status ?? null])).toEqual([['start', 'Released', 'Queued'], ['left', 'Waiting', null], ['right', 'Waiting', null], ['join', 'Waiting', null]]);
    // the same id again (another body): nothing added, the flow as it is
    const again = await api.call('POST', '/flows', { body: { id, steps: [{ name: 'other', type: 'sleep' }] } });
    expect({ status: again.status, created: again.json['created'], steps: (again.json['steps'] as Step[]).map((s) => s.name) }).toEqual({
      status: 200,
      created: false,
      steps: ['start', 'left', 'right', 'join'],
    });

    // a chain whose first step fails every attempt (one allowed): Dead, the next one never runs
    const failing = flowId('failing');
    expect(
      (
        await api.call('POST', '/flows', {
          body: { id: failing, queue, steps: [{ name: 'bad', type: 'sleep', payload: { ms: 1, failAttempts: 9 }, maxAttempts: 1 }, { name: 'after', type: 'sleep', dependsOn: ['bad'] }] },
        })
      ).status,
    ).toBe(201);

    startWorker(queue);
    const done = await waitForFlow(api, id, 'FlowDone');
    expect(done).toMatchObject({ done: 4, failed: 0, cancelled: 0, total: 4 });
    expect(done.endedAt).toBeGreaterThanOrEqual(done.createdAt);
    expect(done.steps.map((s) => [s.name, s.status, s.result])).toEqual([
      ['start', 'Done', { sleptMs: 1, totalMs: 1 }],
      ['left', 'Done', { sleptMs: 2, totalMs: 3 }],
      ['right', 'Done', { sleptMs: 3, totalMs: 4 }],
      ['join', 'Done', { sleptMs: 4, totalMs: 11 }],
    ]);
    // the steps are ordinary tasks of the queue, with the step's options
    const task = await api.call('GET', `/tasks/${queue}/${id}:right`);
    expect(task.json).toMatchObject({ status: 'Done', priority: 7, maxAttempts: 2, result: { sleptMs: 3 } });

    const failed = await waitForFlow(api, failing, 'FlowFailed');
    expect(failed).toMatchObject({ done: 0, failed: 1, cancelled: 1, total: 2, reason: expect.stringContaining('step bad Dead') as unknown });
    expect(failed.steps.map((s) => [s.name, s.status, s.error ?? null])).toEqual([
      ['bad', 'Dead', expect.stringContaining('planned failure of attempt 1') as unknown],
      ['after', 'Cancelled', 'flow failed: step bad Dead'],
    ]);
    // the API of a task: the step that never ran has no task
    expect((await api.call('GET', `/tasks/${queue}/${failing}:after`)).status).toBe(404);

    // the list: newest first, each with its state (other tests' flows may be there too)
    const listed = await api.call('GET', '/flows?limit=100');
    expect(listed.status).toBe(200);
    const rows = listed.json['flows'] as Record<string, unknown>[];
    const mine = rows.filter((f) => f['id'] === id || f['id'] === failing);
    expect(mine).toEqual([
      { id: failing, status: 'FlowFailed', policy: 'failFast', done: 0, failed: 1, cancelled: 1, total: 2, createdAt: expect.any(Number) as unknown, endedAt: expect.any(Number) as unknown, reason: failed.reason },
      { id, status: 'FlowDone', policy: 'failFast', done: 4, failed: 0, cancelled: 0, total: 4, createdAt: done.createdAt, endedAt: done.endedAt },
    ]);
    // no steps in the list
    expect(mine[0]).not.toHaveProperty('steps');
  }, 60_000);

  it('GET /flows pages newest first with limit and offset (nextOffset while more); a bad limit or offset is a 400 naming it', async () => {
    // a prefix of its own: only this test's flows
    const prefix = `it-flows-${randomBytes(3).toString('hex')}`;
    const api = await startApi(['--prefix', prefix]);
    for (const id of ['f1', 'f2', 'f3']) {
      expect((await api.call('POST', '/flows', { body: { id, queue: 'q', steps: [{ name: 'a', type: 'sleep' }] } })).status).toBe(201);
    }
    const page1 = await api.call('GET', '/flows?limit=2');
    expect({ ids: (page1.json['flows'] as { id: string }[]).map((f) => f.id), next: page1.json['nextOffset'] }).toEqual({ ids: ['f3', 'f2'], next: 2 });
    const page2 = await api.call('GET', '/flows?limit=2&offset=2');
    expect({ ids: (page2.json['flows'] as { id: string }[]).map((f) => f.id), next: page2.json['nextOffset'] }).toEqual({ ids: ['f1'], next: undefined });
    expect((await api.call('GET', '/flows')).json['flows']).toHaveLength(3);
    expect((await api.call('GET', '/flows?offset=3')).json).toEqual({ flows: [] });
    for (const [query, field, message] of [
      ['limit=0', 'querystring.limit', 'querystring.limit must be >= 1'],
      ['limit=101', 'querystring.limit', 'querystring.limit must be <= 100'],
      ['offset=-1', 'querystring.offset', 'querystring.offset must be >= 0'],
      ['bogus=1', 'querystring.bogus', 'querystring.bogus is not a field of this object'],
    ]) {
      const res = await api.call('GET', `/flows?${query}`);
      expect({ query, status: res.status, field: res.json['field'], message: res.json['message'] }).toEqual({ query, status: 400, field, message });
    }
    // the steps went to the prefix's queue, not the default prefix's
    const q = new Queue({ queue: 'q', prefix, connection: testRedisUrl() });
    queues.push(q);
    expect((await q.status('f1:a'))?.status).toBe('Queued');
  }, 30_000);

  it('bad flows: 400 naming the problem (schema field, or the library: cycle, unknown dep, duplicate name, bad name or id), nothing written; unknown flows: 404', async () => {
    const api = await startApi();
    const queue = newQueueName('api-flow-bad');
    const id = flowId('bad');
    const step = { name: 'a', type: 'sleep' };
    const cases: [unknown, string | undefined, RegExp][] = [
      [{ id, queue, steps: [] }, 'body.steps', /^body\.steps must NOT have fewer than 1 items$/],
      [{ id, queue }, 'body.steps', /^body\.steps is required$/],
      [{ id, queue, steps: [{ name: 'a' }] }, 'body.steps.0.type', /^body\.steps\.0\.type is required$/],
      [{ id, queue, steps: [{ type: 'sleep' }] }, 'body.steps.0.name', /^body\.steps\.0\.name is required$/],
      [{ id, queue, steps: [{ ...step, runAt: 5 }] }, 'body.steps.0.runAt', /^body\.steps\.0\.runAt is not a field of this object$/],
      [{ id, queue, steps: [{ ...step, priority: 12 }] }, 'body.steps.0.priority', /^body\.steps\.0\.priority must be <= 9$/],
      [{ id, queue, steps: [{ ...step, queue: 'bad queue' }] }, 'body.steps.0.queue', /^body\.steps\.0\.queue must match pattern/],
      [{ id, queue, policy: 'sometimes', steps: [step] }, 'body.policy', /^body\.policy must be equal to one of the allowed values$/],
      [{ id, queue, retentionMs: 0, steps: [step] }, 'body.retentionMs', /^body\.retentionMs must be >= 1$/],
      [{ id, queue, steps: [step], bogus: 1 }, 'body.bogus', /^body\.bogus is not a field of this object$/],
      // the library's checks (InvalidFlowError): the message says what is wrong
      [{ id, queue, steps: [{ ...step, dependsOn: ['b'] }, { name: 'b', type: 'sleep', dependsOn: ['a'] }] }, undefined, /^the steps a, b wait for each other \(a cycle\)$/],
      [{ id, queue, steps: [{ ...step, dependsOn: ['zz'] }] }, undefined, /^step a depends on "zz", which is no step of this flow$/],
      [{ id, queue, steps: [step, step] }, undefined, /^two steps are named "a"$/],
      [{ id, queue, steps: [{ ...step, dependsOn: ['a'] }] }, undefined, /^step a depends on itself$/],
      [{ id, queue, steps: [{ ...step, name: 'a b' }] }, undefined, /^a step name must be 1-100 characters .*a space at index 1$/],
      [{ id: 'has{brace}', queue, steps: [step] }, undefined, /^a flow id must be 1-100 characters .*a brace$/],
    ];
    for (const [body, field, message] of cases) {
      const res = await api.call('POST', '/flows', { body });
      expect({ body, status: res.status, field: res.json['field'] }).toEqual({ body, status: 400, field });
      expect(res.json['message']).toMatch(message);
      expect(res.text).not.toMatch(/\n\s+at |node_modules/);
    }
    // nothing was written
    expect((await api.call('GET', `/flows/${id}`)).status).toBe(404);
    const q = new Queue({ queue, connection: testRedisUrl() });
    queues.push(q);
    expect(await q.status(`${id}:a`)).toBeUndefined();

    expect((await api.call('GET', '/flows/no-such-flow')).json).toEqual({ statusCode: 404, error: 'Not Found', message: 'no flow no-such-flow (never added, or forgotten after its retention)' });
    expect((await api.call('POST', '/flows/no-such-flow/cancel')).json).toEqual({ statusCode: 404, error: 'Not Found', message: 'no flow no-such-flow (never added, or forgotten after its retention)' });
    const braces = await api.call('GET', '/flows/a%7Bb%7D');
    expect({ status: braces.status, message: braces.json['message'] }).toEqual({ status: 400, message: expect.stringMatching(/^a flow id must be .*a brace$/) as unknown });
    // longer than a flow id can be: 400 naming the field; longer than any path parameter (a task id's 256): 414, JSON
    const long = await api.call('GET', `/flows/${'x'.repeat(101)}`);
    expect({ status: long.status, field: long.json['field'], message: long.json['message'] }).toEqual({ status: 400, field: 'params.id', message: 'params.id must NOT have more than 100 characters' });
    const longer = await api.call('GET', `/flows/${'x'.repeat(257)}`);
    expect({ status: longer.status, statusCode: longer.json['statusCode'] }).toEqual({ status: 414, statusCode: 414 });
  }, 30_000);

  it('POST /flows/{id}/cancel: waiting and queued steps at once (200 FlowCancelled); a running step: 202 FlowCancelling until its worker stopped it; an ended flow: 200 with its status, cancelled false', async () => {
    const api = await startApi();
    const queue = newQueueName('api-flow-cancel');
    // queued (delayed an hour) then waiting: cancelled at once
    const idle = flowId('idle');
    await api.call('POST', '/flows', { body: { id: idle, queue, steps: [{ name: 'later', type: 'sleep', delayMs: 3_600_000 }, { name: 'next', type: 'sleep', dependsOn: ['later'] }] } });
    const cancelled = await api.call('POST', `/flows/${idle}/cancel`);
    expect({ status: cancelled.status, json: cancelled.json }).toEqual({ status: 200, json: { id: idle, status: 'FlowCancelled', cancelled: true } });
    const idleState = await flowOf(api, idle);
    expect(idleState).toMatchObject({ status: 'FlowCancelled', cancelled: 2, reason: 'cancelled through the API' });
    expect((await api.call('GET', `/tasks/${queue}/${idle}:later`)).json['status']).toBe('Cancelled');
    // again: it has ended, its status
    expect((await api.call('POST', `/flows/${idle}/cancel`)).json).toEqual({ id: idle, status: 'FlowCancelled', cancelled: true });

    // a step running (a 30 s sleep): 202 FlowCancelling, then the worker aborts it and the flow ends FlowCancelled
    const busy = flowId('busy');
    await api.call('POST', '/flows', { body: { id: busy, queue, steps: [{ name: 'long', type: 'sleep', payload: { ms: 30_000 } }, { name: 'then', type: 'sleep', dependsOn: ['long'] }] } });
    const worker = startWorker(queue);
    await waitUntil(async () => (await flowOf(api, busy)).steps[0]?.task?.status === 'InProgress', { what: 'the long step InProgress', timeoutMs: 15_000 });
    // the worker is held (SIGSTOP) while the API answers, so that it cannot stop the step first:
    // once, under load, it had stopped it and the flow had ended before the API read the flow's state
    process.kill(worker.pid, 'SIGSTOP');
    let accepted: Awaited<ReturnType<typeof api.call>>;
    try {
      accepted = await api.call('POST', `/flows/${busy}/cancel`);
    } finally {
      process.kill(worker.pid, 'SIGCONT');
    }
    expect({ status: accepted.status, json: accepted.json }).toEqual({ status: 202, json: { id: busy, status: 'FlowCancelling', cancelled: true } });
    const ended = await waitForFlow(api, busy, 'FlowCancelled');
    expect(ended.steps.map((s) => [s.name, s.status])).toEqual([['long', 'Cancelled'], ['then', 'Cancelled']]);

    // a flow that ended Done: nothing to cancel
    const quick = flowId('quick');
    await api.call('POST', '/flows', { body: { id: quick, queue, steps: [{ name: 'a', type: 'sleep', payload: { ms: 1 } }] } });
    await waitForFlow(api, quick, 'FlowDone');
    const late = await api.call('POST', `/flows/${quick}/cancel`);
    expect({ status: late.status, json: late.json }).toEqual({ status: 200, json: { id: quick, status: 'FlowDone', cancelled: false } });
    expect((await flowOf(api, quick)).status).toBe('FlowDone');
  }, 60_000);

  it('GET /events?flows=true: a flow event for each change of a flow, seq 1.. in order, to FlowDone; without flows=true none', async () => {
    const api = await startApi();
    const queue = newQueueName('api-flow-events');
    const withFlows = await SseClient.open(api.base, `/events?queue=${queue}&flows=true`);
    const without = await SseClient.open(api.base, `/events?queue=${queue}`);
    for (const s of [withFlows, without]) {
      expect(s.status).toBe(200);
      await s.waitFor((e) => e.event === 'ready', 'ready');
    }
    const id = flowId('evented');
    await api.call('POST', '/flows', { body: { id, queue, steps: [{ name: 'a', type: 'sleep', payload: { ms: 1 } }, { name: 'b', type: 'sleep', payload: { ms: 1 }, dependsOn: ['a'] }] } });
    startWorker(queue);
    await withFlows.waitFor((e) => e.event === 'flow' && e.json?.['flow'] === id && e.json['status'] === 'FlowDone', 'the FlowDone event');
    const mine = withFlows.events.filter((e) => e.event === 'flow' && e.json?.['flow'] === id);
    expect(mine.map((e) => [e.json?.['status'], e.json?.['step'] ?? null, e.json?.['stepStatus'] ?? null, e.json?.['done'], e.json?.['seq']])).toEqual([
      ['FlowRunning', null, null, 0, 1],
      ['FlowRunning', 'a', 'Done', 1, 2],
      ['FlowRunning', 'b', 'Done', 2, 3],
      ['FlowDone', null, null, 2, 4],
    ]);
    expect(mine.every((e) => e.id === undefined)).toBe(true);
    expect(mine[1]?.json).toMatchObject({ taskId: `${id}:a`, total: 2, failed: 0, cancelled: 0, at: expect.any(Number) as unknown });
    // the stream without flows=true saw the steps' tasks, and no flow event
    await without.waitFor((e) => e.event === 'status' && e.json?.['id'] === `${id}:b` && e.json['status'] === 'Done', "b's Done record");
    expect(without.events.filter((e) => e.event === 'flow')).toEqual([]);
  }, 60_000);
});

describe('flows through the API with tokens', () => {
  it('a read token may GET /flows and /flows/{id} but not POST (403); no token: 401; an admin token may do both', async () => {
    const api = await startApi([], { TASKQ_API_ADMIN_TOKENS: ADMIN, TASKQ_API_READ_TOKENS: READ });
    const local = { ...api, base: api.base.replace('0.0.0.0', '127.0.0.1') };
    const call: Api['call'] = (method, path, options = {}) => api.call.call(local, method, path, options);
    const queue = newQueueName('api-flow-auth');
    const id = flowId('auth');
    const body = { id, queue, steps: [{ name: 'a', type: 'sleep', delayMs: 3_600_000 }] };
    const readOnly = await call('POST', '/flows', { body, token: READ });
    expect({ status: readOnly.status, message: readOnly.json['message'] }).toEqual({ status: 403, message: 'this token is read-only; an admin token is required' });
    expect((await call('POST', '/flows', { body })).status).toBe(401);
    expect((await call('GET', `/flows/${id}`, { token: READ })).status).toBe(404); // the refused POST wrote nothing
    expect((await call('POST', '/flows', { body, token: ADMIN })).status).toBe(201);
    expect((await call('GET', `/flows/${id}`, { token: READ })).json).toMatchObject({ id, status: 'FlowRunning' });
    expect((await call('GET', '/flows', { token: READ })).json['flows']).toContainEqual(expect.objectContaining({ id, status: 'FlowRunning' }));
    expect((await call('GET', '/flows')).status).toBe(401);
    expect((await call('GET', `/flows/${id}`)).status).toBe(401);
    const refused = await call('POST', `/flows/${id}/cancel`, { token: READ });
    expect({ status: refused.status, message: refused.json['message'] }).toEqual({ status: 403, message: 'this token is read-only; an admin token is required' });
    expect((await call('GET', `/flows/${id}`, { token: ADMIN })).json['status']).toBe('FlowRunning');
    expect((await call('POST', `/flows/${id}/cancel`, { token: ADMIN })).json).toEqual({ id, status: 'FlowCancelled', cancelled: true });
    // the OpenAPI document: the routes, with their roles
    type Op = { 'x-taskq-role'?: string; security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown };
    const paths = (await call('GET', '/openapi.json')).json['paths'] as Record<string, Record<string, Op>>;
    expect([paths['/flows']?.['post']?.['x-taskq-role'], paths['/flows']?.['get']?.['x-taskq-role'], paths['/flows/{id}']?.['get']?.['x-taskq-role'], paths['/flows/{id}/cancel']?.['post']?.['x-taskq-role']]).toEqual([
      'admin',
      'read',
      'read',
      'admin',
    ]);
    expect(Object.keys(paths['/flows']?.['post']?.responses ?? {})).toEqual(expect.arrayContaining(['200', '201', '400', '403']));
    expect(JSON.stringify(paths['/flows']?.['post']?.requestBody)).toContain('"dependsOn"');
    expect(Object.keys(paths['/flows/{id}/cancel']?.['post']?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '404']));
  }, 30_000);
});
