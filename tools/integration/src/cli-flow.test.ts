import { randomBytes } from 'node:crypto';
import { chain, chord, Consumer, Flows, group, Queue, type FlowState } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { taskq, taskqJson } from './test-support/cli-run';
import { waitUntil } from './test-support/wait';

// `taskq flow ls|show|cancel` as a user runs them: the built binary against
// the harness's redis-server; flows added with the library, their steps run
// by the real worker app (its `sleep` task) or held by a consumer of the test.
// The README's literal flow commands: cli-readme.test.ts.

const clients = new RedisClients();
const closers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await killAllApps();
  for (const c of closers.splice(0)) await c.close();
  await clients.close();
});

function flowsOf(queue: string, prefix?: string): Flows {
  const flows = new Flows({ queue, connection: testRedisUrl(), ...(prefix ? { prefix } : {}) });
  closers.push(flows);
  return flows;
}

const flowId = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

async function waitForFlow(flows: Flows, id: string, status: string): Promise<FlowState> {
  let last: FlowState | undefined;
  return waitUntil(
    async () => {
      last = await flows.get(id);
      return last?.status === status && last;
    },
    { what: `flow ${id} ${status}`, timeoutMs: 20_000, details: () => JSON.stringify(last) },
  );
}

function startWorker(queue: string): AppProcess {
  return AppProcess.start('worker', ['2', '--queue', queue], { env: { REDIS_URL: testRedisUrl() } });
}

describe('taskq flow show, flow ls', () => {
  it("show: status, progress, each step's queue, task, status and result or error; --json the flow's state; ls lists them with their progress", async () => {
    const queue = newQueueName('cli-flow');
    const other = `${queue}-b`;
    const flows = flowsOf(queue);
    const ok = flowId('report');
    const bad = flowId('broken');
    await flows.add(
      chord(group({ name: 'small', type: 'sleep', payload: { ms: 1 } }, { name: 'large', queue: other, type: 'sleep', payload: { ms: 2 } }), { name: 'publish', type: 'sleep', payload: { ms: 3 } }),
      { id: ok },
    );
    // before any worker: Released steps show their task's status, the callback waits
    const waiting = await taskq('flow', 'show', ok);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toMatch(new RegExp(`^id: +${ok}\nstatus: +FlowRunning\npolicy: +failFast\nprogress: +0/3 steps done \\(0 failed, 0 cancelled\\)\ncreated: +\\d{4}-\\S+Z\nSTEP +QUEUE +TASK +STATUS +WAITS FOR +RESULT/ERROR\n`));
    expect(waiting.stdout).toMatch(new RegExp(`^small +${queue} +${ok}:small +Released \\(Queued\\) +-$`, 'm'));
    expect(waiting.stdout).toMatch(new RegExp(`^large +${other} +${ok}:large +Released \\(Queued\\) +-$`, 'm'));
    expect(waiting.stdout).toMatch(new RegExp(`^publish +${queue} +${ok}:publish +Waiting +small,large$`, 'm'));
    expect(waiting.stdout).not.toMatch(/^ended:/m);

    await flows.add(chain({ name: 'bad', type: 'sleep', payload: { ms: 1, failAttempts: 9 }, maxAttempts: 1 }, { name: 'after', type: 'sleep' }), { id: bad });
    startWorker(queue);
    startWorker(other);
    await waitForFlow(flows, ok, 'FlowDone');
    await waitForFlow(flows, bad, 'FlowFailed');

    const done = await taskq('flow', 'show', ok);
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(done.stdout).toMatch(/^status: +FlowDone$/m);
    expect(done.stdout).toMatch(/^progress: +3\/3 steps done \(0 failed, 0 cancelled\)$/m);
    expect(done.stdout).toMatch(/^ended: +\d{4}-\S+Z$/m);
    expect(done.stdout).toMatch(new RegExp(`^small +${queue} +${ok}:small +Done +- +\\{"sleptMs":1,"totalMs":1\\}$`, 'm'));
    expect(done.stdout).toMatch(new RegExp(`^large +${other} +${ok}:large +Done +- +\\{"sleptMs":2,"totalMs":2\\}$`, 'm'));
    expect(done.stdout).toMatch(new RegExp(`^publish +${queue} +${ok}:publish +Done +small,large +\\{"sleptMs":3,"totalMs":6\\}$`, 'm'));

    const failed = await taskq('flow', 'show', bad);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/^status: +FlowFailed$/m);
    expect(failed.stdout).toMatch(/^progress: +0\/2 steps done \(1 failed, 1 cancelled\)$/m);
    expect(failed.stdout).toMatch(/^reason: +step bad Dead: planned failure of attempt 1/m);
    expect(failed.stdout).toMatch(new RegExp(`^bad +${queue} +${bad}:bad +Dead +- +error: planned failure of attempt 1`, 'm'));
    expect(failed.stdout).toMatch(new RegExp(`^after +${queue} +${bad}:after +Cancelled +bad +error: flow failed: step bad Dead$`, 'm'));

    const json = await taskqJson<FlowState>('flow', 'show', ok);
    expect(json).toEqual(await flows.get(ok));
    expect(json.steps.map((s) => [s.name, s.queue, s.taskId, s.status, s.result])).toEqual([
      ['small', queue, `${ok}:small`, 'Done', { sleptMs: 1, totalMs: 1 }],
      ['large', other, `${ok}:large`, 'Done', { sleptMs: 2, totalMs: 2 }],
      ['publish', queue, `${ok}:publish`, 'Done', { sleptMs: 3, totalMs: 6 }],
    ]);

    // ls: newest first (other tests' flows may be listed too)
    const ls = await taskq('flow', 'ls', '--limit', '500');
    expect(ls.code).toBe(0);
    const lines = ls.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID +STATUS +PROGRESS +FAILED +CANCELLED +CREATED +ENDED +REASON$/);
    const badLine = lines.findIndex((l) => l.startsWith(`${bad} `));
    const okLine = lines.findIndex((l) => l.startsWith(`${ok} `));
    expect(badLine).toBeGreaterThan(0);
    expect(okLine).toBeGreaterThan(badLine);
    expect(lines[okLine]).toMatch(new RegExp(`^${ok} +FlowDone +3/3 +0 +0 +\\S+Z +\\S+Z$`));
    expect(lines[badLine]).toMatch(new RegExp(`^${bad} +FlowFailed +0/2 +1 +1 +\\S+Z +\\S+Z +step bad Dead: planned failure`));
    const listed = await taskqJson<{ flows: Record<string, unknown>[] }>('flow', 'ls', '--limit', '500');
    expect(listed.flows.find((f) => f['id'] === ok)).toEqual({
      id: ok,
      status: 'FlowDone',
      policy: 'failFast',
      createdAt: json.createdAt,
      endedAt: json.endedAt,
      total: 3,
      done: 3,
      failed: 0,
      cancelled: 0,
    });
  }, 60_000);

  it('ls pages newest first with --limit and --offset (the next offset on stderr, nextOffset in --json); none: says so', async () => {
    // a prefix of its own: only this test's flows
    const prefix = `it-cliflow-${randomBytes(3).toString('hex')}`;
    expect(await taskq('flow', 'ls', '--prefix', prefix)).toEqual({ code: 0, stdout: `no flows (none kept under ${prefix}:flows)`, stderr: '' });
    const flows = flowsOf('q', prefix);
    for (const id of ['f1', 'f2', 'f3']) await flows.add({ name: 'a', type: 'sleep' }, { id });
    const first = await taskq('flow', 'ls', '--prefix', prefix, '--limit', '2');
    expect(first.stdout.split('\n').slice(1).map((l) => l.split(' ')[0])).toEqual(['f3', 'f2']);
    expect(first.stderr).toBe('(more: the next page with --offset 2)\n');
    const second = await taskq('flow', 'ls', '--prefix', prefix, '--limit', '2', '--offset', '2');
    expect(second.stdout.split('\n').slice(1).map((l) => l.split(' ')[0])).toEqual(['f1']);
    expect(second.stderr).toBe('');
    expect(await taskqJson('flow', 'ls', '--prefix', prefix, '--limit', '2')).toMatchObject({ flows: [{ id: 'f3' }, { id: 'f2' }], more: true, nextOffset: 2 });
    expect(await taskqJson('flow', 'ls', '--prefix', prefix, '--offset', '2')).toEqual({ flows: [expect.objectContaining({ id: 'f1', status: 'FlowRunning', done: 0, total: 1 })], more: false });
    expect((await taskq('flow', 'ls', '--prefix', prefix, '--offset', '3')).stdout).toBe('no more flows (3 skipped)');
  }, 30_000);
});

describe('taskq flow cancel', () => {
  it('waiting and queued steps: cancelled at once (exit 0); again: exit 1; unknown: exit 3; a running step: waits for its worker to stop it', async () => {
    const queue = newQueueName('cli-flow-cancel');
    const flows = flowsOf(queue);
    const idle = flowId('idle');
    await flows.add(chain({ name: 'later', type: 'sleep', delayMs: 3_600_000 }, { name: 'next', type: 'sleep' }), { id: idle });
    expect(await taskq('flow', 'cancel', idle)).toEqual({ code: 0, stdout: `flow ${idle} cancelled`, stderr: '' });
    const state = await flows.get(idle);
    expect(state).toMatchObject({ status: 'FlowCancelled', cancelled: 2, reason: 'cancelled with taskq flow cancel' });
    const q = new Queue({ queue, connection: testRedisUrl() });
    closers.push(q);
    expect((await q.status(`${idle}:later`))?.status).toBe('Cancelled');
    expect(await taskq('flow', 'cancel', idle)).toEqual({ code: 1, stdout: '', stderr: `error: flow ${idle} is FlowCancelled already: nothing to cancel\n` });
    expect(await taskq('flow', 'cancel', idle, '--json')).toEqual({
      code: 1,
      stdout: JSON.stringify({ id: idle, was: 'FlowCancelled', status: 'FlowCancelled' }),
      stderr: `error: flow ${idle} is FlowCancelled already: nothing to cancel\n`,
    });
    expect(await taskq('flow', 'cancel', 'no-such-flow')).toEqual({ code: 3, stdout: '', stderr: 'error: flow no-such-flow not found (never added, or forgotten after its retention)\n' });
    expect(await taskq('flow', 'show', 'no-such-flow')).toEqual({ code: 3, stdout: '', stderr: 'error: flow no-such-flow not found (never added, or forgotten after its retention)\n' });

    // a step running in the worker app (a 30 s sleep): cancel waits until the worker stopped it
    const busy = flowId('busy');
    await flows.add(chain({ name: 'long', type: 'sleep', payload: { ms: 30_000 } }, { name: 'then', type: 'sleep' }), { id: busy });
    const worker = startWorker(queue);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    await waitUntil(async () => (await q.status(`${busy}:long`))?.status === 'InProgress', { what: 'the long step InProgress', timeoutMs: 15_000 });
    expect(await taskqJson('flow', 'cancel', busy)).toEqual({ id: busy, was: 'FlowRunning', status: 'FlowCancelled' });
    expect((await flows.get(busy))?.steps.map((s) => s.status)).toEqual(['Cancelled', 'Cancelled']);
  }, 60_000);

  it('a running step whose worker does not stop it within --wait-ms: exit 1 saying so; once it stops, the flow is FlowCancelled', async () => {
    const queue = newQueueName('cli-flow-held');
    const flows = flowsOf(queue);
    const id = flowId('held');
    await flows.add(group({ name: 'held', type: 'sleep' }, { name: 'queued', type: 'sleep', delayMs: 3_600_000 }), { id });
    // the test's own consumer takes the step and holds it (runs nothing)
    const redis = await clients.connect();
    const consumer = new Consumer({ queue, connection: redis, id: `${queue}-c` });
    await consumer.register();
    const [held] = (await consumer.fetch(['w1'])).tasks;
    expect(held?.id).toBe(`${id}:held`);
    const run = await taskq('flow', 'cancel', id, '--wait-ms', '300');
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: flow ${id} is still FlowCancelling after 300 ms: the workers of its running steps were told to cancel them (their handlers' signals fired) and have not stopped them yet\n`,
    });
    expect((await flows.get(id))?.steps.map((s) => s.status)).toEqual(['Released', 'Cancelled']);
    // its worker stops it now: the flow ends
    expect(await consumer.fail(held.id, held.worker, held.token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    await consumer.flowNoticesMoved();
    expect((await flows.get(id))?.status).toBe('FlowCancelled');
    expect((await taskq('flow', 'show', id)).stdout).toMatch(/^status: +FlowCancelled$/m);
    await consumer.unregister();
  }, 30_000);
});

describe('taskq flow: bad arguments', () => {
  it.each<[string, string[], RegExp]>([
    ['a group without its command', ['flow'], /name a flow command: ls, show or cancel/],
    ['show without an id', ['flow', 'show'], /Not enough non-option arguments/],
    ['a flow id with a brace', ['flow', 'show', 'a{b}'], /invalid flow id "a\{b\}": a brace/],
    ['a flow id with a space', ['flow', 'cancel', 'a b'], /invalid flow id "a b": a space at index 1/],
    ['--limit 0', ['flow', 'ls', '--limit', '0'], /--limit must be a whole number >= 1/],
    ['--offset -1', ['flow', 'ls', '--offset', '-1'], /--offset must be a whole number >= 0, got -1/],
    ['--wait-ms -5', ['flow', 'cancel', 'x', '--wait-ms', '-5'], /--wait-ms must be a whole number >= 0, got -5/],
  ])('%s: exit 2, the usage and the error on stderr', async (_, args, message) => {
    const run = await taskq(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^taskq flow/);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Exit codes:');
  });
});
