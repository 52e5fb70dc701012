import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { monitored, startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '@taskq/redis-harness';
import { FENCE_ENCODING_FIELD, Queue, queueKeys, SCRIPT_KEYS } from '@taskq/queue';
import type { WorkerPoolOptions } from './options';
import { WorkerPool } from './worker-pool';
import type { TaskOutcome } from './task-runner';
import { waitFor } from './test-support/wait-for';

// Hand-off, the pool's side (WorkerPoolSettings.handOff): a task handed to an
// idle pool in its wake message starts without a fetch; its claim (with the
// pool's next call) records it InProgress; a refused claim aborts the handler.

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Script calls among `commands` whose first key is `queue`'s ready list, by script (told apart by their number of keys). */
function scriptCalls(commands: readonly { args: string[] }[], queue: string): { fetch: number; enqueue: number; tasksAsked: number } {
  const ready = queueKeys(queue).ready;
  const calls = commands.filter((c) => /^eval(sha)?$/i.test(c.args[0] ?? '') && c.args[3] === ready);
  const fetches = calls.filter((c) => c.args[2] === String(SCRIPT_KEYS.fetch.length));
  // a fetch's worker names (tasks asked for) follow its acks, results and claim block (see fetch.lua's ARGV)
  const asked = (args: readonly string[]): number => {
    const argv = args.slice(3 + SCRIPT_KEYS.fetch.length);
    const acks = Number(argv[4]);
    const results = Number(argv[5]);
    const claimBlock = 6 + 3 * acks + 2 * results;
    const claims = Number(argv[claimBlock + 1]);
    return argv.length - (claimBlock + 2 + 3 * claims);
  };
  return {
    fetch: fetches.length,
    enqueue: calls.filter((c) => c.args[2] === String(SCRIPT_KEYS.enqueue.length)).length,
    tasksAsked: fetches.reduce((n, c) => n + asked(c.args), 0),
  };
}

/**
 * A handler's synchronous work: for up to `ms`, reads task `id`'s stored status
 * with redis-cli (as another client sees it while this event loop is held),
 * pushing each reading ('none' without a record) onto `seen`, until InProgress.
 */
function spinReadingStatus(queue: string, id: string, ms: number, seen: string[], cli: string[] = ['-p', new URL(server.url).port]): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const record = execFileSync('redis-cli', [...cli, 'HGET', queueKeys(queue).status, id], { encoding: 'utf8' }).trim();
    seen.push(record === '' ? 'none' : (JSON.parse(record) as { status: string }).status);
    if (seen[seen.length - 1] === 'InProgress') return;
  }
}

/** How many times each task id was claimed in the fetch-script calls among `commands` (the main thread's and the heartbeat thread's). */
function claimCounts(commands: readonly { args: string[] }[], queue: string): Map<string, number> {
  const ready = queueKeys(queue).ready;
  const counts = new Map<string, number>();
  for (const c of commands) {
    if (!/^evalsha$/i.test(c.args[0] ?? '') || c.args[3] !== ready || c.args[2] !== String(SCRIPT_KEYS.fetch.length)) continue;
    const argv = c.args.slice(3 + SCRIPT_KEYS.fetch.length);
    if (!(argv[2] ?? '').includes('h')) continue;
    const block = 6 + 3 * Number(argv[4]) + 2 * Number(argv[5]);
    const claims = Number(argv[block + 1]);
    for (let i = 0; i < claims; i++) {
      const id = argv[block + 2 + 3 * i] ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** The fetch-script calls among `commands` that carry claims sent by a pool's heartbeat thread (ARGV[3] '0hr'). */
function relayedClaimCalls(commands: readonly { args: string[] }[], queue: string): number {
  const ready = queueKeys(queue).ready;
  return commands.filter((c) => /^evalsha$/i.test(c.args[0] ?? '') && c.args[3] === ready && c.args[3 + SCRIPT_KEYS.fetch.length + 2] === '0hr').length;
}

interface Rec {
  readonly id: string;
  readonly status: string;
  readonly at: number;
  readonly worker?: string;
}

/** The status records published on `queue`'s events channel, by task id. */
async function recordsOf(queue: string): Promise<{ byId: Map<string, { status: string; at: number; worker?: string }[]>; close: () => void }> {
  const sub = new Redis(server.url);
  const byId = new Map<string, { status: string; at: number; worker?: string }[]>();
  sub.on('message', (_channel: string, message: string) => {
    // one record, or an array of a script's records
    const parsed = JSON.parse(message) as Rec | Rec[];
    for (const r of Array.isArray(parsed) ? parsed : [parsed]) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  });
  await sub.subscribe(queueKeys(queue).events);
  return { byId, close: () => sub.disconnect() };
}

function handOffPool(
  queue: string,
  handlers: Record<string, (task: { id: string }, ctx: { signal: AbortSignal }) => unknown>,
  concurrency = 2,
  settings: Partial<WorkerPoolOptions> = {},
): WorkerPool {
  const pool = new WorkerPool({ queue, connection: server.url, consumerId: `${queue}-pool`, concurrency, handOff: true, idlePollMs: 60_000, janitor: false, ...settings });
  for (const [type, handler] of Object.entries(handlers)) pool.handle(type, handler);
  return pool;
}

/** A hand-off pool of 2 on `queue` whose `wait` tasks run until their signal fires, what its runs ended as, a producer, and the last run's signal. */
function abortablePool(queue: string): { pool: WorkerPool; outcomes: TaskOutcome[]; producer: Queue; signal: () => AbortSignal | undefined } {
  let signal: AbortSignal | undefined;
  const pool = handOffPool(queue, {
    wait: (_task, ctx) =>
      new Promise<void>((resolve) => {
        signal = ctx.signal;
        ctx.signal.addEventListener('abort', () => resolve());
      }),
  });
  const outcomes: TaskOutcome[] = [];
  pool.onTaskEnd((o) => outcomes.push(o));
  return { pool, outcomes, producer: new Queue({ queue, connection: server.url }), signal: () => signal };
}

/**
 * Enqueues a `noop` task and a `spin` task in one call, so both are handed off
 * at once to a pool listed for several idle sub-workers: the first (a lone
 * task) is claimed at once; the spin, a moment after it with a sub-worker
 * still idle, lingers (to share a call) and its handler starts and blocks
 * before the main thread sends anything. Resolves once both are Done.
 */
async function handOffFirstAndSpin(producer: Queue): Promise<void> {
  await producer.enqueueMany([
    { id: 'first', type: 'noop', payload: null },
    { id: 'spin', type: 'spin', payload: null },
  ]);
  await waitFor('both Done', async () => (await producer.status('spin'))?.status === 'Done' && (await producer.status('first'))?.status === 'Done', { timeoutMs: 10_000 });
}

/**
 * Pauses the queue, enqueues the `wait` task `id` and starts the pool: no wake
 * comes after the start and no fetch takes the task. Resolves once the pool's
 * start-up fetches are over (they found the queue paused) and both sub-workers
 * are idle again (a hand-off that meets none is put back at once instead).
 */
async function startWithPausedTask(pool: WorkerPool, producer: Queue, id: string): Promise<void> {
  await producer.pause();
  await producer.enqueue({ id, type: 'wait', payload: null });
  await pool.start();
  await waitFor('both sub-workers idle', () => pool.stats().idle === 2 && pool.stats().paused);
}

describe('hand-off pool (redis-server)', () => {
  it('a trickle into an idle pool: every task runs once, on its wake message (no fetch asked for any; at most a claim and an ack per task), Queued -> InProgress -> Done in order', async () => {
    const queue = 'ho-trickle';
    const keys = queueKeys(queue);
    const ran: string[] = [];
    const pool = handOffPool(queue, { noop: (task) => void ran.push(task.id) });
    const producer = new Queue({ queue, connection: server.url });
    const records = await recordsOf(queue);
    const tasks = 40;
    try {
      await pool.start();
      // a first task, not counted: the pool's start-up fetches (which ask for tasks) are over by its Done
      await producer.enqueue({ id: 'warm', type: 'noop', payload: null });
      await waitFor('the first task Done', () => records.byId.get('warm')?.some((r) => r.status === 'Done') === true);
      const commands = await monitored(server.url, async () => {
        for (let i = 0; i < tasks; i++) {
          // The pool is listed before each enqueue: when its entries are used
          // up, an enqueue that beats the call listing it again finds none and
          // wakes it with a count (it fetches, as without hand-off), a race
          // this loop would provoke by enqueueing the moment a task ran.
          await waitFor('the pool listed', async () => (await redis.llen(keys.handOffWaiters)) >= 1, { pollMs: 0 });
          await producer.enqueue({ id: `t${i}`, type: 'noop', payload: null });
          await waitFor(`task t${i} run`, () => ran.includes(`t${i}`), { pollMs: 0 });
        }
        await waitFor('every task Done', () => [...Array(tasks).keys()].every((i) => records.byId.get(`t${i}`)?.some((r) => r.status === 'Done')));
      });
      expect([...ran].sort()).toEqual([...Array.from({ length: tasks }, (_, i) => `t${i}`), 'warm'].sort());
      for (let i = 0; i < tasks; i++) {
        const seen = records.byId.get(`t${i}`) ?? [];
        expect(seen.map((r) => r.status)).toEqual(['Queued', 'InProgress', 'Done']);
        expect(seen[1].worker).toMatch(/^worker-\d+-[12]$/);
        expect(seen[1].at).toBeGreaterThanOrEqual(seen[0].at);
        expect(seen[2].at).toBeGreaterThanOrEqual(seen[1].at);
      }
      const calls = scriptCalls(commands, queue);
      console.log(`hand-off trickle: ${tasks} tasks one at a time: ${calls.enqueue} enqueue calls, ${calls.fetch} fetch-script calls (claims and acks), ${calls.tasksAsked} task(s) asked for by a fetch`);
      expect(calls.enqueue).toBe(tasks);
      // every task came in its wake message: no fetch asked for one (without hand-off every task is fetched)
      expect(calls.tasksAsked).toBe(0);
      // at most a claim and an ack per task; at a brisk trickle claims and acks share calls
      // (26-31 calls for the 40 here on an idle machine, 43-56 beside two busy loops), a timing matter left to the bench
      expect(calls.fetch).toBeLessThanOrEqual(2 * tasks);
      expect(await redis.llen(keys.ready)).toBe(0);
      expect(await redis.llen(keys.processing(`${queue}-pool`))).toBe(0);
    } finally {
      records.close();
      await producer.close();
      await pool.stop();
    }
  });

  it('a lone handed-off task whose handler blocks the event loop (synchronous work): its claim is sent before the handler starts, so it reads InProgress while it blocks', async () => {
    const queue = 'ho-sync';
    const keys = queueKeys(queue);
    // what another client reads of the task while the handler holds the pool's event loop
    const seen: string[] = [];
    const pool = handOffPool(queue, { spin: (task) => spinReadingStatus(queue, task.id, 3000, seen) });
    const producer = new Queue({ queue, connection: server.url });
    try {
      await pool.start();
      await waitFor('the pool listed', async () => (await redis.llen(keys.handOffWaiters)) >= 1);
      const commands = await monitored(server.url, async () => {
        await producer.enqueue({ id: 'spin', type: 'spin', payload: null });
        await waitFor('the task Done', async () => (await producer.status('spin'))?.status === 'Done', { timeoutMs: 10_000 });
      });
      // handed off (no fetch asked for it), and InProgress while the handler still held the loop
      expect(scriptCalls(commands, queue).tasksAsked).toBe(0);
      expect(seen[seen.length - 1]).toBe('InProgress');
      expect((await producer.status('spin'))?.attempt).toBe(1);
    } finally {
      await producer.close();
      await pool.stop();
    }
  });

  it('a trickle whose claims linger: a handler that blocks the event loop is claimed by the heartbeat thread (its call ARGV "0hr"), so it reads InProgress while it blocks; every task runs once', async () => {
    const queue = 'ho-relay';
    const keys = queueKeys(queue);
    const consumer = `${queue}-pool`;
    const seen: string[] = [];
    const ran: string[] = [];
    // a long linger: the spin's claim surely waits for a call the blocked main thread cannot make
    const pool = handOffPool(
      queue,
      {
        noop: (task) => void ran.push(task.id),
        spin: (task) => {
          ran.push(task.id);
          spinReadingStatus(queue, task.id, 5000, seen);
        },
      },
      8,
      { ackLingerMs: 1000 },
    );
    const producer = new Queue({ queue, connection: server.url });
    try {
      await pool.start();
      // listed for at least 4 idle sub-workers (its two start-up fetches list it 8 and 4 times, in either order)
      await waitFor('the pool listed', async () => (await redis.llen(keys.handOffWaiters)) >= 4 && pool.stats().idle === 8);
      const commands = await monitored(server.url, () => handOffFirstAndSpin(producer));
      expect(seen[seen.length - 1]).toBe('InProgress');
      expect(ran.sort()).toEqual(['first', 'spin']);
      expect(scriptCalls(commands, queue).tasksAsked).toBe(0);
      // the relayed claim: the heartbeat thread's call, claims only ('0hr': the listing left alone)
      expect(relayedClaimCalls(commands, queue)).toBe(1);
      expect((await producer.status('spin'))?.attempt).toBe(1);
      expect(await redis.llen(keys.processing(consumer))).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 20_000);

  it('handlers that block the event loop 0-90 ms, tasks in threes: the main thread and the heartbeat thread both send claims, each claim once; every task Done once, nothing left held or fenced', async () => {
    const queue = 'ho-relay-race';
    const keys = queueKeys(queue);
    const consumer = `${queue}-pool`;
    const runs = new Map<string, number>();
    const pool = handOffPool(
      queue,
      {
        block: (task) => {
          runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
          const until = Date.now() + [0, 30, 90][Number(task.id.slice(1)) % 3];
          while (Date.now() < until) {
            // synchronous work
          }
        },
      },
      8,
    );
    const producer = new Queue({ queue, connection: server.url });
    const n = 60;
    try {
      await pool.start();
      await waitFor('the pool listed', async () => (await redis.llen(keys.handOffWaiters)) >= 4);
      const commands = await monitored(server.url, async () => {
        // in threes (0, 30 and 90 ms): handed off together, the second and third claims linger
        // and their handlers block the loop before the main thread sends them (this process is
        // the producer too: the next three go once the loop is free)
        for (let i = 0; i < n; i += 3) {
          await producer.enqueueMany([0, 1, 2].map((k) => ({ id: `r${i + k}`, type: 'block', payload: null })));
        }
        await waitFor(() => `${runs.size} of ${n} run`, () => runs.size === n, { timeoutMs: 15_000 });
        await waitFor('nothing held', async () => (await redis.llen(keys.processing(consumer))) === 0, { timeoutMs: 10_000 });
      });
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      const statuses = await producer.statuses([...runs.keys()]);
      expect([...statuses.values()].map((s) => `${s?.status}/${s?.attempt}`)).toEqual(Array.from({ length: n }, () => 'Done/1'));
      expect((await redis.hkeys(keys.fence)).filter((f) => f !== FENCE_ENCODING_FIELD)).toEqual([]);
      const relayed = relayedClaimCalls(commands, queue);
      const claimed = claimCounts(commands, queue);
      const fetched = scriptCalls(commands, queue).tasksAsked;
      console.log(`relay race: ${n} tasks, ${claimed.size} claimed (${relayed} claim call(s) from the heartbeat thread), ${fetched} task(s) asked for by fetches`);
      expect(relayed).toBeGreaterThanOrEqual(1);
      // each handed-off task claimed once, by one of the two threads; the others were fetched
      expect([...claimed.values()].filter((count) => count !== 1)).toEqual([]);
      expect(claimed.size).toBeGreaterThan(0);
      expect([...claimed.keys()].filter((id) => !runs.has(id))).toEqual([]);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 30_000);

  it('a burst beside a hand-off pool and a fetching pool: every task runs exactly once, nothing is left in a processing list or fenced', async () => {
    const queue = 'ho-burst';
    const keys = queueKeys(queue);
    const runs = new Map<string, number>();
    const handlers = { noop: (task: { id: string }) => void runs.set(task.id, (runs.get(task.id) ?? 0) + 1) };
    const a = handOffPool(queue, handlers, 4);
    const b = new WorkerPool({ queue, connection: server.url, consumerId: `${queue}-plain`, concurrency: 4, janitor: false, handlers });
    const producer = new Queue({ queue, connection: server.url });
    try {
      await a.start();
      await b.start();
      const n = 300;
      for (let i = 0; i < n; i += 30) {
        await producer.enqueueMany(Array.from({ length: 30 }, (_, j) => ({ id: `b${i + j}`, type: 'noop', payload: null })));
      }
      await waitFor(() => `${runs.size} of ${n} run`, () => runs.size === n, { timeoutMs: 15_000 });
      await waitFor('nothing held', async () => (await redis.llen(keys.processing(`${queue}-pool`))) + (await redis.llen(keys.processing(`${queue}-plain`))) === 0, { timeoutMs: 10_000 });
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect((await redis.hkeys(keys.fence)).filter((f) => f !== FENCE_ENCODING_FIELD)).toEqual([]);
      const statuses = await producer.statuses([...runs.keys()]);
      expect([...statuses.values()].every((s) => s?.status === 'Done')).toBe(true);
    } finally {
      await producer.close();
      await a.stop();
      await b.stop();
    }
  });

  it('a hand-off message for a task that is not the pool\'s: the handler starts, its claim is refused, its signal fires, nothing is recorded (Unclaimed)', async () => {
    const queue = 'ho-refused';
    const keys = queueKeys(queue);
    const { pool, outcomes, producer, signal } = abortablePool(queue);
    try {
      await startWithPausedTask(pool, producer, 'x'); // it stays ready, not handed off
      const body = (await redis.hget(keys.tasks, 'x')) ?? '';
      await redis.publish(keys.wakeOf(`${queue}-pool`), `h x ${body}`);
      await waitFor('the Unclaimed outcome', () => outcomes.length === 1);
      expect(outcomes[0]).toMatchObject({ id: 'x', status: 'Unclaimed' });
      expect(signal()?.aborted).toBe(true);
      expect((await producer.status('x'))?.status).toBe('Queued');
      expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['x']);
      expect(pool.stats().busy).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  });

  it('a cancel that lands before the claim: the task is Cancelled at once, the claim refused, the started handler aborted (Unclaimed here), nothing else recorded', async () => {
    const queue = 'ho-cancel';
    const keys = queueKeys(queue);
    const consumer = `${queue}-pool`;
    const { pool, outcomes, producer, signal } = abortablePool(queue);
    try {
      await startWithPausedTask(pool, producer, 'c');
      // what the enqueue's hand-off does, with its message held back: the task is the pool's, unclaimed
      await redis.lrem(keys.ready, 0, 'c');
      await redis.lpush(keys.processing(consumer), 'c');
      await redis.hset(keys.fence, 'c', `h:${Date.now()} ${consumer}`);
      const body = (await redis.hget(keys.tasks, 'c')) ?? '';
      expect((await producer.cancel('c', { waitMs: 0 })).outcome).toBe('cancelled');
      // the hand-off message, late (the cancel's control message came before this run existed)
      await redis.publish(keys.wakeOf(consumer), `h c ${body}`);
      await waitFor('the run ended', () => outcomes.length === 1);
      expect(outcomes[0]).toMatchObject({ id: 'c', status: 'Unclaimed' });
      expect(signal()?.aborted).toBe(true);
      expect((await producer.status('c'))?.status).toBe('Cancelled');
      expect(await redis.llen(keys.processing(consumer))).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  });

  it('a handler blocks the event loop while a task is handed off to the pool (its message waits on the socket): reconcile, which goes first once the loop is free, leaves it alone; it runs once and its claim stands', async () => {
    const queue = 'ho-blocked';
    const keys = queueKeys(queue);
    const consumer = `${queue}-pool`;
    const runs = new Map<string, number>();
    const producer = new Queue({ queue, connection: server.url });
    // what enqueue.lua's hand-off does, dated 2.5 s back (the 2 s that reconcile once
    // granted a hand-off's message have passed): out of the delayed set, into the pool's list
    const handOff = `redis.call('ZREM', KEYS[1], ARGV[1])
      redis.call('LPUSH', KEYS[2], ARGV[1])
      redis.call('HSET', KEYS[3], ARGV[1], 'h:' .. ARGV[3] .. ' ' .. ARGV[2])
      redis.call('PUBLISH', KEYS[5], 'h ' .. ARGV[1] .. ' ' .. redis.call('HGET', KEYS[4], ARGV[1]))`;
    const pool = handOffPool(
      queue,
      {
        block: async () => {
          await waitFor('the blocker InProgress', async () => (await producer.status('blocker'))?.status === 'InProgress');
          // and no call of the pool's in flight (its reply would make the pool read its sockets before it reconciles)
          await waitFor('the pool quiet', () => (pool as unknown as { exchanges: Set<unknown> }).exchanges.size === 0);
          // synchronous from here to the return: the pool's event loop reads nothing meanwhile
          const { port } = new URL(server.url);
          execFileSync('redis-cli', ['-p', port, 'EVAL', handOff, '5', keys.delayed, keys.processing(consumer), keys.fence, keys.tasks, keys.wakeOf(consumer), 'late', consumer, String(Date.now() - 2500)]);
        },
        noop: (task) => void runs.set(task.id, (runs.get(task.id) ?? 0) + 1),
      },
      2,
      { reconcileMs: 1 },
    );
    const outcomes: TaskOutcome[] = [];
    pool.onTaskEnd((o) => outcomes.push(o));
    try {
      // stays Delayed until the blocker hands it to the pool by hand
      await producer.enqueue({ id: 'late', type: 'noop', payload: null, delayMs: 600_000 });
      await pool.start();
      await producer.enqueue({ id: 'blocker', type: 'block', payload: null });
      await waitFor('the late task Done', async () => (await producer.status('late'))?.status === 'Done', { timeoutMs: 10_000 });
      await waitFor('nothing held', async () => (await redis.llen(keys.processing(consumer))) === 0);
      expect(runs.get('late')).toBe(1);
      expect(outcomes.filter((o) => o.id === 'late').map((o) => o.status)).toEqual(['Done']);
      expect((await producer.status('late'))?.attempt).toBe(1);
      expect(await redis.llen(keys.ready)).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  });

  it('a hand-off whose message was lost (never published): the next reconcile, after its barrier, returns it; it is fetched and runs once', async () => {
    const queue = 'ho-lost';
    const keys = queueKeys(queue);
    const consumer = `${queue}-pool`;
    const runs = new Map<string, number>();
    const producer = new Queue({ queue, connection: server.url });
    const pool = handOffPool(queue, { noop: (task) => void runs.set(task.id, (runs.get(task.id) ?? 0) + 1) }, 2, { reconcileMs: 1 });
    try {
      await producer.enqueue({ id: 'lost', type: 'noop', payload: null, delayMs: 600_000 });
      await pool.start();
      // enqueue.lua's hand-off, just now, without its message; at once, as the script does (the pool,
      // reconciling every loop, must not see the task in its list unfenced: it would return it, fetch
      // and start it, and the fence written after that would refuse its ack and make it run again)
      await redis.multi().zrem(keys.delayed, 'lost').lpush(keys.processing(consumer), 'lost').hset(keys.fence, 'lost', `h:${Date.now()} ${consumer}`).exec();
      // the pool's loop reconciles when it next runs: a wake makes it run now (without one it sleeps its idle poll, 60 s here)
      await redis.publish(keys.wakeOf(consumer), '1');
      await waitFor('the lost task Done', async () => (await producer.status('lost'))?.status === 'Done', { timeoutMs: 10_000 });
      expect(runs.get('lost')).toBe(1);
      expect((await producer.status('lost'))?.attempt).toBe(1);
      expect(await redis.llen(keys.processing(consumer))).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 15_000);

  it('stop with a handed-off task running: it goes back to the queue (Queued), the pool leaves the hand-off list, nothing is left held', async () => {
    const queue = 'ho-stop';
    const keys = queueKeys(queue);
    const { pool, producer, signal } = abortablePool(queue);
    try {
      await pool.start();
      await waitFor('the pool listed', async () => (await redis.llen(keys.handOffWaiters)) >= 1);
      await producer.enqueue({ id: 's', type: 'wait', payload: null });
      await waitFor('the handler started', () => signal() !== undefined);
      const result = await pool.stop(100);
      expect(result.released).toBe(1);
      expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['s']);
      expect((await producer.status('s'))?.status).toBe('Queued');
      expect(await redis.llen(keys.handOffWaiters)).toBe(0);
      expect(await redis.llen(keys.processing(`${queue}-pool`))).toBe(0);
    } finally {
      await producer.close();
      await pool.stop();
    }
  });
});

describe('hand-off pool on a Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("a lingering claim whose handler blocks the event loop: the heartbeat thread's call (the sharded script, routed to the queue's node) records it InProgress while it blocks", async () => {
    const queue = 'ho-relay-cluster';
    const keys = queueKeys(queue);
    const seen: string[] = [];
    const pool = handOffPool(
      queue,
      {
        noop: () => undefined,
        // redis-cli -c: follows the MOVED to the node that holds the queue's slot
        spin: (task) => spinReadingStatus(queue, task.id, 5000, seen, ['-c', '-p', String(cluster.seeds[0]?.port)]),
      },
      8,
      { ackLingerMs: 1000, connection: cluster.url },
    );
    const producer = new Queue({ queue, connection: cluster.url });
    try {
      await pool.start();
      await waitFor('the pool listed', async () => (await producer.connection.client()).llen(keys.handOffWaiters).then((n) => n >= 4 && pool.stats().idle === 8));
      await handOffFirstAndSpin(producer);
      expect(seen[seen.length - 1]).toBe('InProgress');
      expect((await producer.status('spin'))?.attempt).toBe(1);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 30_000);
});
