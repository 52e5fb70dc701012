import { decodeProgressEvent, Queue, queueKeys, type ProgressUpdate, type ProgressValue } from '@taskq/queue';
import { WorkerPool } from './worker-pool';
import { MockRedis } from './test-support/mock-redis';
import type { HandlerMap, TaskContext } from './handler';
import { waitFor } from './test-support/wait-for';
import { sleepTask } from './sleep-task';

const k = queueKeys('progress-pool');
const mocks = new MockRedis(40000);

afterEach(() => mocks.cleanup());

/** A pool on a fresh in-memory Redis, its queue, and the progress updates seen on the events channel. */
async function setup(handlers: HandlerMap, progressIntervalMs = 100) {
  const { p, make } = mocks.server();
  const redis = make();
  redis.duplicate = make;
  const config = { queue: 'progress-pool', connection: redis };
  const queue = new Queue(config);
  const pool = mocks.track(new WorkerPool({ ...config, consumerId: `c-${p}`, concurrency: 2, idlePollMs: 50, heartbeat: 'main', progressIntervalMs, handlers }));
  const seen: (ProgressUpdate & { calls: number })[] = [];
  const sub = make();
  let calls = 0;
  sub.on('message', (_c: string, message: string) => {
    const event = decodeProgressEvent(message);
    if (event) {
      calls++;
      for (const t of event.tasks) seen.push({ ...t, calls });
    }
  });
  await sub.subscribe(k.events);
  // what the pool sends, whether Redis takes it or not
  const sent: string[] = [];
  // when each task's reports were sent, on this process's clock (ioredis-mock's TIME, and so the records' `at`,
  // is not monotonic: whole seconds rounded, plus hrtime's nanoseconds as microseconds)
  const sentAt = new Map<string, number[]>();
  const report = pool.consumer.reportProgress.bind(pool.consumer);
  pool.consumer.reportProgress = (items) => {
    sent.push(...items.map((i) => i.id));
    const now = performance.now();
    for (const i of items) sentAt.set(i.id, [...(sentAt.get(i.id) ?? []), now]);
    return report(items);
  };
  await pool.start();
  return { redis, queue, pool, seen, sent, sentAt };
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('ctx.progress in a WorkerPool (ioredis-mock)', () => {
  it('a tight loop of reports costs one write per interval, the latest value wins; Queue.progress reads it while the task runs, and nothing once it is Done', async () => {
    const release = gate();
    const { queue, seen } = await setup(
      {
        loop: async (_task, { progress }) => {
          // destructured: still bound to its task
          for (let i = 0; i <= 1000; i++) progress({ done: i, total: 1000 });
          await release.opened;
        },
      },
      100,
    );
    await queue.enqueue({ id: 'L', type: 'loop' });
    await waitFor('the last value stored', async () => (await queue.progress('L'))?.done === 1000);
    expect(await queue.progress('L')).toEqual({ pct: 100, done: 1000, total: 1000, at: expect.any(Number) as number });
    // 1001 reports in one synchronous loop: one write, of the latest value
    await waitFor('the event', () => seen.length > 0);
    expect(seen.map((s) => s.done)).toEqual([1000]);
    release.open();
    await waitFor('L Done', async () => (await queue.status('L'))?.status === 'Done');
    expect(await queue.progress('L')).toBeUndefined();
  });

  it('reports across awaits reach Redis at most once per interval per task, every task of a flush in one message', async () => {
    const releases = new Map([['a', gate()], ['b', gate()]]);
    const { queue, seen, sentAt } = await setup(
      {
        steps: async (task, ctx) => {
          for (let i = 1; i <= 100; i++) {
            ctx.progress(i, `step ${i}`);
            await new Promise((r) => setImmediate(r));
          }
          await releases.get(task.id)!.opened;
        },
      },
      200,
    );
    await queue.enqueueMany([{ id: 'a', type: 'steps' }, { id: 'b', type: 'steps' }]);
    await waitFor('both at 100 %', () => seen.filter((s) => s.pct === 100).length === 2);
    for (const id of ['a', 'b']) {
      const mine = seen.filter((s) => s.id === id);
      expect(mine.length).toBeLessThan(100); // throttled
      expect(mine.map((s) => s.pct)).toEqual([...mine.map((s) => s.pct)].sort((x, y) => x - y)); // in order
      expect(mine[mine.length - 1]).toMatchObject({ pct: 100, msg: 'step 100' });
      // at least one interval (200 ms) between two sends of a task's reports (a little slack for the two clocks' rounding)
      const times = sentAt.get(id) ?? [];
      expect(times.length).toBeGreaterThanOrEqual(mine.length);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(195);
    }
    // the two tasks' updates share messages: fewer messages than updates
    expect(new Set(seen.map((s) => s.calls)).size).toBeLessThan(seen.length);
    for (const g of releases.values()) g.open();
    await waitFor('both Done', async () => [...(await queue.statuses(['a', 'b'])).values()].every((r) => r?.status === 'Done'));
    expect([...(await queue.progressMany(['a', 'b'])).values()]).toEqual([undefined, undefined]);
  });

  it('throws a TypeError to the handler for a bad value; a value not sent when the task ends is dropped, a report after it is ignored', async () => {
    const errors: string[] = [];
    let late: TaskContext['progress'] | undefined;
    const { queue, seen, sent } = await setup({
      bad: (_task, { progress }) => {
        for (const value of [101, -1, NaN, { done: 2, total: 1 }, '5' as unknown as ProgressValue]) {
          try {
            progress(value);
          } catch (err) {
            errors.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
          }
        }
        progress(50, 'half');
        late = progress;
      },
    });
    await queue.enqueue({ id: 'B', type: 'bad' });
    await waitFor('B Done', async () => (await queue.status('B'))?.status === 'Done');
    expect(errors).toEqual([
      'TypeError: progress must be a percentage from 0 to 100 or { done, total }, got 101',
      'TypeError: progress must be a percentage from 0 to 100 or { done, total }, got -1',
      'TypeError: progress must be a percentage from 0 to 100 or { done, total }, got NaN',
      'TypeError: progress { done, total } needs done <= total, got { done: 2, total: 1 }',
      'TypeError: progress must be a percentage from 0 to 100 or { done, total }, got string',
    ]);
    const before = seen.length;
    late!(75, 'too late');
    // a report of another task after it shows that a flush went by
    await queue.enqueue({ id: 'C', type: 'bad' });
    await waitFor('C Done', async () => (await queue.status('C'))?.status === 'Done');
    expect(seen.slice(before).map((s) => s.id)).not.toContain('B');
    // not even sent: 'half' was still waiting for its flush when the (synchronous) handler ended, and was dropped; the late one was ignored
    expect(sent).not.toContain('B');
    expect(await queue.progress('B')).toBeUndefined();
  });

  it('refuses a progress interval that is not > 0', () => {
    expect(() => new WorkerPool({ queue: 'x', connection: 'redis://127.0.0.1:1', progressIntervalMs: 0 })).toThrow(RangeError);
    expect(() => new WorkerPool({ queue: 'x', connection: 'redis://127.0.0.1:1', progressIntervalMs: NaN })).toThrow(/progressIntervalMs/);
  });
});

describe('the sleep task reports its progress', () => {
  afterEach(() => jest.useRealTimers());

  function run(ms: number): { calls: { done: number; total: number }[]; result: Promise<unknown> } {
    const calls: { done: number; total: number }[] = [];
    const ctx = {
      signal: new AbortController().signal,
      attempt: 1,
      progress: (value: ProgressValue) => void calls.push(value as { done: number; total: number }),
    } as unknown as TaskContext;
    const result = Promise.resolve(sleepTask({ id: 's', type: 'sleep', payload: { ms }, enqueuedAt: 0, maxAttempts: 1 } as never, ctx));
    return { calls, result };
  }

  it('every 10 % of its duration, as steps done of ten, and ends on time', async () => {
    jest.useFakeTimers();
    const { calls, result } = run(1000);
    let ended = false;
    void result.then(() => (ended = true));
    await jest.advanceTimersByTimeAsync(450);
    expect(calls).toEqual([1, 2, 3, 4].map((done) => ({ done, total: 10 })));
    await jest.advanceTimersByTimeAsync(549);
    expect(calls.map((c) => c.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ended).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(ended).toBe(true);
  });

  it('not when shorter than 100 ms', async () => {
    jest.useFakeTimers();
    const { calls, result } = run(99);
    await jest.advanceTimersByTimeAsync(99);
    await result;
    expect(calls).toEqual([]);
  });
});
