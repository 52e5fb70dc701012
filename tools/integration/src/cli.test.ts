import { Queue, queueKeys } from '@taskq/queue';
import type { TaskStatus } from '@taskq/recorder';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { closedPort } from './test-support/closed-port';
import { newQueueName, RedisClients, scanKeys, testRedisUrl } from './test-support/redis-fixture';
import { taskq, taskqJson } from './test-support/cli-run';
import { waitUntil } from './test-support/wait';

// The ops CLI (apps/cli, `taskq`) as a user runs it: the built binary,
// `node apps/cli/dist/main.js …`, against the harness's redis-server, each
// test on queues of its own. The README's literal commands: cli-readme.test.ts.

const clients = new RedisClients();
const queues: Queue[] = [];

afterEach(async () => {
  await killAllApps();
  for (const q of queues.splice(0)) await q.close();
  await clients.close();
});


function queueOf(name: string): Queue {
  const q = new Queue({ queue: name, connection: testRedisUrl() });
  queues.push(q);
  return q;
}

async function waitForStatus(queue: Queue, id: string, status: TaskStatus): Promise<void> {
  await waitUntil(async () => (await queue.status(id))?.status === status, { timeoutMs: 10_000, what: `${id} to be ${status}` });
}

function startWorker(queue: string, concurrency = 2): AppProcess {
  return AppProcess.start('worker', [String(concurrency), '--queue', queue, '--stale-after-ms', '3000'], { env: { REDIS_URL: testRedisUrl() } });
}

async function stopWorker(worker: AppProcess): Promise<void> {
  worker.signal('SIGTERM');
  expect((await worker.waitForExit(15_000)).code).toBe(0);
}

describe('taskq task show: progress', () => {
  it("shows a running task's latest progress (the sleep task reports it), as a line and in --json; none once it is Done, and then its result", async () => {
    const name = newQueueName('cli-progress');
    const q = queueOf(name);
    // long enough for two CLI runs (each a Node start, about 1 s on a loaded machine) while it runs: a 2 s task had ended
    // before the second one in a CI run
    await q.enqueue({ id: 'slow', type: 'sleep', payload: { ms: 8000 } });
    const worker = startWorker(name, 1);
    await waitUntil(async () => (await q.progress('slow')) !== undefined, { timeoutMs: 10_000, what: "slow's first progress report" });
    const shown = await taskq('task', 'show', name, 'slow');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^progress: +\d+(\.\d+)?% \(\d+\/10\) at \d{4}-/m);
    expect(shown.stdout).not.toMatch(/^result:/m);
    const detail = await taskqJson<{ progress: { pct: number; total: number } | null }>('task', 'show', name, 'slow');
    expect(detail.progress).toMatchObject({ total: 10 });
    expect(detail).not.toHaveProperty('result');
    await waitForStatus(q, 'slow', 'Done');
    const done = await taskqJson<{ progress: unknown; result?: unknown }>('task', 'show', name, 'slow');
    expect(done.progress).toBeNull();
    // the sleep handler's return value, stored with Done
    expect(done.result).toEqual({ sleptMs: 8000 });
    expect((await taskq('task', 'show', name, 'slow')).stdout).toMatch(/^result: +\{"sleptMs":8000\}$/m);
    await stopWorker(worker);
  }, 30_000);
});

describe('taskq enqueue, task show, task ls, stats, queue ls', () => {
  it('enqueues with its options and prints the id; show, ls and stats report the task, as tables and as --json', async () => {
    const q = newQueueName('cli');
    const enq = await taskq('enqueue', 'sleep', '{"ms": 5, "to": "a@example.com"}', '--queue', q, '--id', 'task_1', '--priority', '9', '--max-attempts', '4');
    expect(enq).toEqual({ code: 0, stdout: 'task_1', stderr: '' });
    const generated = await taskq('enqueue', 'sleep', 'null', '--queue', q);
    expect(generated.stdout).toMatch(/^\d+$/);
    const delayed = await taskqJson<{ id: string; type: string }>('enqueue', 'later', '[1,2]', '--queue', q, '--delay-ms', '600000');

    const shown = await taskqJson('task', 'show', q, 'task_1');
    expect(shown).toMatchObject({
      queue: q,
      id: 'task_1',
      task: { type: 'sleep', payload: { ms: 5, to: 'a@example.com' }, priority: 9, maxAttempts: 4 },
      status: { status: 'Queued', attempt: 0 },
      history: [],
    });
    const text = await taskq('task', 'show', q, 'task_1');
    expect(text.stdout).toMatch(/^status: +Queued$/m);
    expect(text.stdout).toMatch(/^payload: +\{"ms":5,"to":"a@example.com"\}$/m);

    // in the order workers take them: priority 9 first
    const ls = await taskqJson<{ tasks: { id: string; status: string }[]; more: boolean }>('task', 'ls', q, '--status', 'Queued');
    expect(ls.tasks.map((t) => t.id)).toEqual(['task_1', generated.stdout]);
    expect(ls.more).toBe(false);
    const limited = await taskq('task', 'ls', q, '--status', 'Queued', '--limit', '1');
    expect(limited.stdout.split('\n')).toEqual([expect.stringMatching(/^ID +TYPE +STATUS +ATTEMPT +SINCE +PAYLOAD +INFO$/), expect.stringMatching(/^task_1 +sleep +Queued +0\/4 /)]);
    // the next page's cursor on stderr, given back with --cursor
    const cursor = /^\(more: the next page with --cursor ([A-Za-z0-9_-]+)\)\n$/.exec(limited.stderr)?.[1];
    expect({ stderr: limited.stderr, cursor }).toEqual({ stderr: limited.stderr, cursor: expect.any(String) as unknown });
    const page2 = await taskq('task', 'ls', q, '--status', 'Queued', '--limit', '1', '--cursor', cursor ?? '');
    expect(page2).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`\n${generated.stdout} +sleep +Queued +0/3 `)) as unknown, stderr: '' });
    const json1 = await taskqJson<{ tasks: { id: string }[]; more: boolean; nextCursor?: string }>('task', 'ls', q, '--status', 'Queued', '--limit', '1');
    expect(json1).toMatchObject({ tasks: [{ id: 'task_1' }], more: true, nextCursor: cursor });
    const json2 = await taskqJson<{ tasks: { id: string }[]; more: boolean; nextCursor?: string }>('task', 'ls', q, '--status', 'Queued', '--limit', '1', '--cursor', json1.nextCursor ?? '');
    expect(json2).toEqual({ queue: q, status: 'Queued', tasks: [expect.objectContaining({ id: generated.stdout, status: 'Queued' })], more: false });
    // a cursor of another status's list: a bad argument
    const wrong = await taskq('task', 'ls', q, '--status', 'Delayed', '--cursor', cursor ?? '');
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: 'error: --cursor is not valid: it pages through the Queued tasks, not the Delayed ones (give back the nextCursor of the page before, or none for the first page)\n' });
    expect(await taskq('dead', 'ls', q, '--cursor', 'garbage!')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: --cursor is not valid: not base64url/) as unknown });
    const later = await taskqJson<{ tasks: { id: string; runAt: number }[] }>('task', 'ls', q, '--status', 'Delayed');
    expect(later.tasks.map((t) => t.id)).toEqual([delayed.id]);
    expect(later.tasks[0].runAt).toBeGreaterThan(Date.now() + 500_000);
    expect((await taskq('task', 'ls', q, '--status', 'Dead')).stdout).toBe(`no Dead tasks in queue ${q}`);

    const stats = await taskqJson<{ queues: Record<string, unknown>[] }>('stats', '--queue', q);
    expect(stats.queues).toEqual([
      { queue: q, ready: 2, delayed: 1, inProgress: 0, dead: 0, failed: 0, finished: 0, workers: 0, paused: false, oldestReadyAgeMs: expect.any(Number) as unknown },
    ]);
    // every queue of the server, this one among them (as a table: one row per queue)
    const all = await taskq('stats');
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^QUEUE +READY +DELAYED +IN PROGRESS +DEAD +FAILED +FINISHED +WORKERS +PAUSED +OLDEST READY$/);
    expect(all.stdout).toMatch(new RegExp(`^${q} +2 +1 +0 +0 +0 +0 +0 +no +\\d`, 'm'));
    const ls2 = await taskqJson<{ queues: { queue: string; workers: number; paused: boolean }[] }>('queue', 'ls');
    expect(ls2.queues).toContainEqual({ queue: q, paused: false, workers: 0 });

    // cancel a waiting task; again: it is final
    expect(await taskq('task', 'cancel', q, 'task_1')).toEqual({ code: 0, stdout: 'task task_1 cancelled', stderr: '' });
    const again = await taskq('task', 'cancel', q, 'task_1');
    expect(again).toMatchObject({ code: 1, stderr: 'error: task task_1 is Cancelled already: nothing to cancel\n' });
    expect((await taskqJson<{ tasks: { id: string }[] }>('task', 'ls', q, '--status', 'Cancelled')).tasks.map((t) => t.id)).toEqual(['task_1']);
  });

  it('task ls --status InProgress names the worker; task cancel stops the running task; watch prints its InProgress and Done lines', async () => {
    const q = newQueueName('cli-run');
    const watch = AppProcess.start('cli', ['watch', '--queue', q], { env: { REDIS_URL: testRedisUrl() } });
    const watchJson = AppProcess.start('cli', ['watch', '--json'], { env: { REDIS_URL: testRedisUrl() } });
    for (const w of [watch, watchJson]) await waitUntil(() => w.stderr.includes('(Ctrl-C to stop)'), { timeoutMs: 10_000, what: 'watch to subscribe', details: () => w.tail() });
    const worker = startWorker(q);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    expect((await taskq('enqueue', 'sleep', '{"ms":50}', '--queue', q, '--id', 'quick')).code).toBe(0);
    expect((await taskq('enqueue', 'sleep', '{"ms":30000}', '--queue', q, '--id', 'long')).code).toBe(0);
    const queue = queueOf(q);
    await waitForStatus(queue, 'long', 'InProgress');
    const running = await taskqJson<{ tasks: { id: string; worker: string; attempt: number }[] }>('task', 'ls', q, '--status', 'InProgress');
    expect(running.tasks).toEqual([expect.objectContaining({ id: 'long', attempt: 1, worker: expect.stringMatching(/^worker-\d+-\d$/) as unknown })]);
    // its first progress report (10 %, after 3 s), then the cancel
    await waitUntil(async () => (await queue.progress('long')) !== undefined, { timeoutMs: 10_000, what: "long's first progress report" });
    expect(await taskq('task', 'cancel', q, 'long')).toEqual({ code: 0, stdout: 'task long cancelled', stderr: '' });

    const time = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
    for (const pattern of [
      new RegExp(`^${time} ${q} quick Queued attempt 0$`),
      new RegExp(`^${time} ${q} quick InProgress worker-\\d+-\\d attempt 1$`),
      new RegExp(`^${time} ${q} quick Done worker-\\d+-\\d attempt 1$`),
      // the 30 s sleep task reports every 10 %: its first report, before the cancel
      new RegExp(`^${time} ${q} long progress 10% \\(1/10\\)$`),
      new RegExp(`^${time} ${q} long Cancelled worker-\\d+-\\d attempt 1: cancelled while running$`),
    ]) {
      await waitUntil(() => watch.stdoutLines.some((l) => pattern.test(l)), { timeoutMs: 10_000, what: `a watch line ${pattern}`, details: () => watch.tail() });
    }
    // watch --json, on every queue: one JSON object per event, this queue's among them
    await taskq('queue', 'pause', q, '--reason', 'deploy');
    const parsed = () => watchJson.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['queue'] === q);
    await waitUntil(() => parsed().some((e) => e['event'] === 'paused'), { timeoutMs: 10_000, what: 'the paused event', details: () => watchJson.tail() });
    expect(parsed()).toContainEqual(expect.objectContaining({ queue: q, id: 'quick', status: 'Done', attempt: 1, seq: expect.any(Number) as unknown }));
    expect(parsed()).toContainEqual(expect.objectContaining({ queue: q, event: 'paused', reason: 'deploy' }));

    expect(parsed()).toContainEqual(expect.objectContaining({ queue: q, event: 'progress', id: 'long', pct: 10, done: 1, total: 10 }));
    // no message went unread (a progress message was one before watch knew them)
    for (const w of [watch, watchJson]) expect(w.stderr).not.toContain('neither status records');
    for (const [w, signal] of [[watch, 'SIGINT'], [watchJson, 'SIGTERM']] as const) {
      w.signal(signal);
      expect((await w.waitForExit(5000)).code).toBe(0);
    }
    await stopWorker(worker);
  });
});

describe('taskq dead, task retry', () => {
  it('lists Dead tasks with their error, retries a Dead and a Failed task, requeues by id and --all; unknown ids exit 3', async () => {
    const q = newQueueName('cli-dead');
    for (const id of ['d1', 'd2', 'd3']) await taskq('enqueue', 'sleep', '{"ms":1,"failAttempts":9}', '--queue', q, '--id', id, '--max-attempts', '1');
    await taskq('enqueue', 'nosuch', '{}', '--queue', q, '--id', 'rej');
    await taskq('enqueue', 'sleep', '{"ms":1}', '--queue', q, '--id', 'ok');
    const worker = startWorker(q);
    const queue = queueOf(q);
    for (const id of ['d1', 'd2', 'd3']) await waitForStatus(queue, id, 'Dead');
    await waitForStatus(queue, 'rej', 'Failed');
    await waitForStatus(queue, 'ok', 'Done');
    await stopWorker(worker); // what is requeued stays Queued

    const dead = await taskqJson<{ tasks: { id: string; reason: string; attempt: number }[] }>('dead', 'ls', q);
    expect(dead.tasks.map((t) => t.id).sort()).toEqual(['d1', 'd2', 'd3']);
    // two pages of two: the same three, each once, newest first
    const first = await taskq('dead', 'ls', q, '--limit', '2');
    const next = /--cursor (\S+)\)$/m.exec(first.stderr)?.[1] ?? '';
    const second = await taskq('dead', 'ls', q, '--limit', '2', '--cursor', next);
    const idsIn = (run: { stdout: string }) => run.stdout.split('\n').slice(1).map((l) => l.split(' ')[0]);
    expect([...idsIn(first), ...idsIn(second)]).toEqual(dead.tasks.map((t) => t.id));
    expect(second.stderr).toBe('');
    expect(dead.tasks[0]).toMatchObject({ attempt: 1, reason: expect.stringContaining('planned failure') as unknown });
    const table = await taskq('dead', 'ls', q);
    expect(table.stdout).toMatch(/^d\d +sleep +Dead +1\/1 +\S+ +\{"ms":1,"failAttempts":9\} +planned failure/m);
    const failed = await taskqJson<{ tasks: { id: string; reason: string }[] }>('task', 'ls', q, '--status', 'Failed');
    expect(failed.tasks).toEqual([expect.objectContaining({ id: 'rej', reason: 'no handler for task type "nosuch"' })]);

    expect(await taskq('task', 'retry', q, 'd1')).toEqual({ code: 0, stdout: 'task d1 requeued (was Dead); attempts start over', stderr: '' });
    expect(await taskq('task', 'retry', q, 'rej')).toEqual({ code: 0, stdout: 'task rej requeued (was Failed); attempts start over', stderr: '' });
    expect(await queue.status('rej')).toMatchObject({ status: 'Queued', attempt: 0 });
    expect(await queue.history('d1')).toHaveLength(1); // kept
    expect(await taskq('task', 'retry', q, 'ok')).toMatchObject({ code: 1, stderr: 'error: task ok is Done: only Dead and Failed tasks can be retried\n' });
    expect(await taskq('task', 'retry', q, 'nope')).toMatchObject({ code: 3, stderr: expect.stringContaining('task nope not found in queue') as unknown });
    expect(await taskq('task', 'show', q, 'nope')).toMatchObject({ code: 3, stdout: '' });
    expect(await taskq('task', 'cancel', q, 'nope')).toMatchObject({ code: 3 });

    const some = await taskq('dead', 'requeue', q, 'd2', 'nope');
    expect(some).toEqual({ code: 3, stdout: `requeued 1 dead task(s) of queue ${q}: d2`, stderr: `error: not in the dead-letter list of queue ${q}: nope\n` });
    expect(await taskqJson('dead', 'requeue', q, '--all')).toEqual({ queue: q, count: 1 });
    expect(await queue.deadIds()).toEqual([]);
    expect([...(await queue.statuses(['d1', 'd2', 'd3', 'rej'])).values()].map((r) => r?.status)).toEqual(['Queued', 'Queued', 'Queued', 'Queued']);
  });
});

describe('taskq queue pause, resume, purge', () => {
  it('pause and resume: stats and queue ls show it, with the reason', async () => {
    const q = newQueueName('cli-pause');
    await taskq('enqueue', 'sleep', '{}', '--queue', q);
    expect(await taskq('queue', 'pause', q, '--reason', 'deploy')).toMatchObject({ code: 0, stdout: `queue ${q} paused (deploy): workers take no task from it until it is resumed` });
    expect((await taskq('queue', 'pause', q)).stdout).toMatch(new RegExp(`^queue ${q} was paused already, since \\S+ \\(deploy\\)$`));
    expect((await taskqJson<{ queues: unknown[] }>('stats', '--queue', q)).queues[0]).toMatchObject({ paused: true, pausedReason: 'deploy' });
    expect((await taskq('queue', 'ls')).stdout).toMatch(new RegExp(`^${q} +0 +since \\S+Z: deploy$`, 'm'));
    expect(await taskqJson('queue', 'resume', q)).toMatchObject({ queue: q, resumed: true, event: { event: 'resumed' } });
    expect((await taskq('queue', 'resume', q)).stdout).toBe(`queue ${q} was not paused`);
    expect((await taskqJson<{ queues: unknown[] }>('stats', '--queue', q)).queues[0]).toMatchObject({ paused: false });
  });

  it("purge refuses without --yes (no terminal) and while a worker is registered; with --yes it deletes the queue's keys and leaves another queue's alone", async () => {
    const q = newQueueName('cli-purge');
    const other = `${q}-other`; // a name that begins like q's
    const redis = await clients.connect();
    for (const name of [q, other]) {
      await taskq('enqueue', 'sleep', '{"ms":1}', '--queue', name, '--id', 'a');
      await taskq('enqueue', 'sleep', '{}', '--queue', name, '--delay-ms', '600000');
      await taskq('queue', 'pause', name);
    }
    const keysOf = (name: string) => scanKeys(redis, `taskq:{${name}}:*`);
    const otherBefore = await keysOf(other);
    const otherDump = await Promise.all(otherBefore.map((k) => redis.dump(k)));
    expect(otherBefore.length).toBeGreaterThan(4);

    const worker = startWorker(q);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const busy = await taskq('queue', 'purge', q, '--yes');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`^error: queue ${q} has 1 worker\\(s\\) registered \\(\\S+\\): stop them first, or purge with --force`));
    await stopWorker(worker);

    const unconfirmed = await taskq('queue', 'purge', q);
    expect(unconfirmed).toMatchObject({ code: 1, stderr: `error: refusing to purge queue ${q} without --yes: stdin is not a terminal to confirm on\n` });
    expect((await keysOf(q)).length).toBeGreaterThan(4);

    const purged = await taskqJson<{ deleted: number; keys: string[] }>('queue', 'purge', q, '--yes');
    expect(purged.keys).toEqual(expect.arrayContaining([queueKeys(q).tasks, queueKeys(q).delayed, queueKeys(q).paused, queueKeys(q).epoch]));
    expect(purged.deleted).toBe(purged.keys.length);
    expect(await keysOf(q)).toEqual([]);
    expect(await keysOf(other)).toEqual(otherBefore);
    expect(await Promise.all(otherBefore.map((k) => redis.dump(k)))).toEqual(otherDump);
    expect((await taskq('queue', 'purge', q, '--yes')).stdout).toBe(`queue ${q} has no keys: nothing to delete`);
  });
});

describe('taskq bad arguments and an unreachable Redis', () => {
  it.each<[string, string[], RegExp]>([
    ['payload that is not JSON', ['enqueue', 'sleep', '{"ms":}'], /<payload> is not valid JSON: expected a value, found "\}" at position 6 \(line 1, column 7\)/],
    ['--priority out of range', ['enqueue', 'sleep', '{}', '--priority', '10'], /--priority must be a whole number from 0 to 9, got 10/],
    ['all-digit --id', ['enqueue', 'sleep', '{}', '--id', '123'], /--id "123": all-digit task ids are the generated ones/],
    ['task ls without --status', ['task', 'ls', 'q'], /Missing required argument: status/],
    ['an unknown status', ['task', 'ls', 'q', '--status', 'Running'], /Invalid values:[\s\S]*Running/],
    ['an invalid queue name', ['queue', 'pause', 'a b'], /queue: invalid queue name "a b"/],
    ['an unknown command', ['frobnicate'], /Unknown argument: frobnicate/],
    ['no command', [], /name a command/],
    ['a group without its command', ['dead'], /name a dead command: ls or requeue/],
    ['dead requeue without ids or --all', ['dead', 'requeue', 'q'], /give the ids of the tasks to requeue, or --all/],
    ['an unknown flag', ['stats', '--bogus'], /Unknown argument: bogus/],
    ['--limit 0', ['dead', 'ls', 'q', '--limit', '0'], /--limit must be a whole number >= 1/],
    ['--limit over 500', ['task', 'ls', 'q', '--status', 'Done', '--limit', '501'], /--limit must be at most 500, got 501/],
  ])('%s: exit 2, the usage and the error on stderr, nothing written', async (_, args, message) => {
    const q = newQueueName('cli-usage');
    const run = await taskq(...args, ...(args[0] === 'enqueue' ? ['--queue', q] : []));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^taskq /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Exit codes:');
    const redis = await clients.connect();
    expect(await scanKeys(redis, `taskq:{${q}}:*`)).toEqual([]);
  });

  it('Redis unreachable: exit 1 with an error naming the address, its password redacted', async () => {
    const port = await closedPort();
    const run = await taskq('stats', '--redis', `redis://ops:s3cret@127.0.0.1:${port}`, '--connect-timeout-ms', '500');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: cannot connect to Redis at redis://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port} within 500 ms`));
    expect(run.stderr + run.stdout).not.toContain('s3cret');
  });
});
