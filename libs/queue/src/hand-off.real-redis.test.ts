import { Redis } from 'ioredis';
import { queueKeys } from './keys';
import { Consumer } from './consumer';
import { Queue } from './queue';
import { Janitor } from './janitor';
import { useRedisServer } from './test-support/redis-server';

// Hand-off (docs/design/hand-off.md): the scripts' side. A consumer that
// lists itself in the hand-off list gets each new task in its wake message,
// moved to its processing list (fenced 'h:<ms> <consumer>', still Queued), and
// claims it with its next call.

const real = useRedisServer();

/** Subscribes to `channel` and collects its messages. */
async function listen(channel: string): Promise<{ messages: string[]; close: () => void }> {
  const sub = new Redis(real.server.url);
  const messages: string[] = [];
  sub.on('message', (_channel: string, message: string) => messages.push(message));
  await sub.subscribe(channel);
  return { messages, close: () => sub.disconnect() };
}

/** Waits until `check` holds (pub/sub messages arrive on their own connection). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A queue and a registered consumer `id` listed `slots` times as a hand-off pool (its first fetch found nothing). */
async function handOffSetup(name: string, slots = 1, id = 'c1'): Promise<{ queue: Queue; consumer: Consumer; keys: ReturnType<typeof queueKeys> }> {
  const config = { queue: name, connection: real.redis };
  const queue = new Queue(config);
  const consumer = new Consumer({ ...config, id });
  await consumer.register();
  const first = await consumer.exchange([], ['w1'], { handOff: { spare: slots - 1, claims: [] } });
  expect(first.tasks).toEqual([]);
  return { queue, consumer, keys: queueKeys(name) };
}

describe('hand-off (redis-server)', () => {
  it('lists a hand-off pool once per idle sub-worker; an enqueue hands each new task to one entry: processing list, fence h:<ms> <consumer>, still Queued, body in the message; the claim records InProgress', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-basic', 3);
    expect(await real.redis.lrange(keys.handOffWaiters, 0, -1)).toEqual(['c1', 'c1', 'c1']);
    expect(await real.redis.llen(keys.waiters)).toBe(0); // not in the counted wake list
    const own = await listen(keys.wakeOf('c1'));
    const all = await listen(keys.wake);
    try {
      await queue.enqueueMany([
        { id: 'a', type: 'email', payload: { to: 'x' } },
        { id: 'b', type: 'email', payload: { to: 'y' } },
      ]);
      await until('two hand-off messages', () => own.messages.length === 2);
      expect(own.messages.map((m) => m.split(' ').slice(0, 2).join(' '))).toEqual(['h a', 'h b']);
      expect(own.messages[0]).toMatch(/^h a \[\d+,"email",/);
      expect(await real.redis.llen(keys.ready)).toBe(0);
      expect((await real.redis.lrange(keys.processing('c1'), 0, -1)).sort()).toEqual(['a', 'b']);
      const fences = await real.redis.hmget(keys.fence, 'a', 'b');
      expect(fences).toEqual([expect.stringMatching(/^h:\d+ c1$/), expect.stringMatching(/^h:\d+ c1$/)]);
      expect(await real.redis.lrange(keys.handOffWaiters, 0, -1)).toEqual(['c1']);
      expect((await queue.status('a'))?.status).toBe('Queued');
      // the claim: a fencing token, InProgress at the start the pool measured, with the worker
      const before = Date.now();
      const reply = await consumer.exchange([], [], { handOff: { spare: 3, claims: [{ id: 'a', worker: 'w1', ageMs: 0 }] } });
      expect(reply.claims).toHaveLength(1);
      const token = reply.claims?.[0] ?? '';
      expect(token).toMatch(/^\d+:1$/);
      expect(await real.redis.hget(keys.fence, 'a')).toBe(token);
      const a = await queue.status('a');
      expect(a).toMatchObject({ status: 'InProgress', worker: 'w1', attempt: 1 });
      expect(a?.at).toBeGreaterThanOrEqual(before - 1000);
      // claims-only call with no task ready: listed again once per idle sub-worker
      expect(await real.redis.lrange(keys.handOffWaiters, 0, -1)).toEqual(['c1', 'c1', 'c1']);
      // the ack of a claimed task stands, as a fetched one's
      const acked = await consumer.exchange([{ id: 'a', worker: 'w1', token }], [], { handOff: { spare: 3, claims: [] } });
      expect(acked.acks).toEqual([true]);
      expect((await queue.status('a'))?.status).toBe('Done');
      // an ack without a claim is refused (the fence is not a token)
      const early = await consumer.exchange([{ id: 'b', worker: 'w2', token: fences[1] ?? '' }], [], { handOff: { spare: 3, claims: [] } });
      expect(early.acks).toEqual([false]);
      expect(all.messages).toEqual([]); // nobody else was woken
    } finally {
      own.close();
      all.close();
    }
  });

  it('claims in one call: a count in the attempts hash moves into the token, a refused claim records nothing, the records take consecutive seqs (no gap), a cancel request of another task is left alone', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-batch', 3);
    await queue.enqueueMany([
      { id: 'a', type: 'x' },
      { id: 'b', type: 'x' },
    ]);
    await queue.enqueue({ id: 'other', type: 'x', delayMs: 60_000 });
    // 'a' ran twice before (as a released or recovered task's count is kept); a cancel request waits for 'other'
    await real.redis.hset(keys.attempts, 'a', '2');
    await real.redis.hset(keys.cancels, 'other', '1');
    const seqBefore = Number(await real.redis.get(keys.seq));
    const reply = await consumer.exchange([], [], {
      handOff: {
        spare: 3,
        claims: [
          { id: 'a', worker: 'w1', ageMs: 0 },
          { id: 'never-handed', worker: 'w2', ageMs: 0 },
          { id: 'b', worker: 'w3', ageMs: 0 },
        ],
      },
    });
    expect(reply.claims).toEqual([expect.stringMatching(/^\d+:3$/), '', expect.stringMatching(/^\d+:1$/)]);
    const [a, b] = [await queue.status('a'), await queue.status('b')];
    expect(a).toMatchObject({ status: 'InProgress', attempt: 3, worker: 'w1' });
    expect(b).toMatchObject({ status: 'InProgress', attempt: 1, worker: 'w3' });
    expect([a?.seq, b?.seq]).toEqual([seqBefore + 1, seqBefore + 2]);
    expect(Number(await real.redis.get(keys.seq))).toBe(seqBefore + 2);
    expect(reply.claims?.[0]).toBe(`${seqBefore + 1}:3`);
    expect(await real.redis.hget(keys.attempts, 'a')).toBeNull();
    expect(await real.redis.hget(keys.cancels, 'other')).toBe('1');
    expect(await queue.status('never-handed')).toBeUndefined();
  });

  it("a heartbeat thread's claims call (Consumer.claimCall, ARGV[3] '0hr'): records the claim, leaves the hand-off and waiters lists as they are and promotes no due task", async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-relayed', 3);
    await queue.enqueue({ id: 'a', type: 'x' });
    await queue.enqueue({ id: 'd', type: 'x', delayMs: 600_000 });
    await real.redis.zadd(keys.delayed, 1, 'd'); // long due
    const listed = await real.redis.lrange(keys.handOffWaiters, 0, -1);
    expect(listed).toEqual(['c1', 'c1']); // one entry went with 'a'
    const call = consumer.claimCall();
    const reply = (await real.redis.evalsha(call.sha, call.keys.length, ...call.keys, ...call.args, '1', 'a', 'w1', '0')) as unknown[];
    expect(String(reply[2])).toMatch(/^\d+:1$/);
    expect(await queue.status('a')).toMatchObject({ status: 'InProgress', worker: 'w1', attempt: 1 });
    expect(await real.redis.lrange(keys.handOffWaiters, 0, -1)).toEqual(listed);
    expect(await real.redis.llen(keys.waiters)).toBe(0);
    expect(await real.redis.zscore(keys.delayed, 'd')).toBe('1');
    expect(await real.redis.llen(keys.ready)).toBe(0);
  });

  it('a claimed task whose start the pool puts before its enqueue is recorded InProgress at the enqueue, not earlier', async () => {
    const { queue, consumer } = await handOffSetup('ho-clock');
    const task = await queue.enqueue({ id: 'a', type: 'x' });
    const reply = await consumer.exchange([], [], { handOff: { spare: 1, claims: [{ id: 'a', worker: 'w1', ageMs: 60_000 }] } });
    expect(reply.claims?.[0]).toMatch(/^\d+:1$/);
    expect((await queue.status('a'))?.at).toBe(task.enqueuedAt);
  });

  it('reconcile keeps a task handed off less than 2 s ago (its message may be on its way) and returns an older one (its message was lost); a claim of a returned task is refused and records nothing', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-refused');
    await queue.enqueue({ id: 'a', type: 'x' });
    const fence = (await real.redis.hget(keys.fence, 'a')) ?? '';
    expect(fence).toMatch(/^h:\d+ c1$/);
    expect(await consumer.reconcile([])).toEqual([]);
    expect(await real.redis.lrange(keys.processing('c1'), 0, -1)).toEqual(['a']);
    // handed off 3 s ago, never heard of: reconcile returns it, Queued, no attempt counted
    const handedAt = Number(fence.slice(2, fence.indexOf(' ')));
    await real.redis.hset(keys.fence, 'a', `h:${handedAt - 3000} c1`);
    expect(await consumer.reconcile([])).toEqual(['a']);
    expect(await real.redis.lrange(keys.ready, 0, -1)).toEqual(['a']);
    expect(await real.redis.hexists(keys.fence, 'a')).toBe(0);
    expect(await real.redis.hexists(keys.attempts, 'a')).toBe(0);
    const reply = await consumer.exchange([], [], { handOff: { spare: 1, claims: [{ id: 'a', worker: 'w1', ageMs: 1 }] } });
    expect(reply.claims).toEqual(['']);
    expect((await queue.status('a'))?.status).toBe('Queued');
    // it runs as a first attempt when fetched
    const fetched = await consumer.exchange([], ['w1'], { handOff: { spare: 0, claims: [] } });
    expect(fetched.tasks.map((t) => [t.id, t.attempt])).toEqual([['a', 1]]);
  });

  it('handedOff lists the unclaimed hand-offs of this consumer only; reconcile with settled hand-offs returns those it is not running, whatever their age, and keeps every other hand-off', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-settled', 3);
    const other = new Consumer({ queue: 'ho-settled', connection: real.redis, id: 'c1x' });
    await other.register();
    await queue.enqueueMany([
      { id: 'a', type: 'x' },
      { id: 'b', type: 'x' },
      { id: 'c', type: 'x' },
    ]);
    // a claimed one is no hand-off any more
    const claimed = await consumer.exchange([], [], { handOff: { spare: 0, claims: [{ id: 'c', worker: 'w1', ageMs: 1 }] } });
    expect(claimed.claims?.[0]).toMatch(/^\d+:1$/);
    // a fence naming another consumer whose id starts with this one's is not this consumer's
    await real.redis.hset(keys.fence, 'b', (await real.redis.hget(keys.fence, 'b'))?.replace(/ c1$/, ' c1x') ?? '');
    expect((await consumer.handedOff()).sort()).toEqual(['a']);
    // (in c1x's own list it is c1x's)
    await real.redis.lpush(keys.processing('c1x'), 'b');
    expect(await other.handedOff()).toEqual(['b']);
    await real.redis.del(keys.processing('c1x'));
    await real.redis.hset(keys.fence, 'b', (await real.redis.hget(keys.fence, 'b'))?.replace(/ c1x$/, ' c1') ?? '');
    expect((await consumer.handedOff()).sort()).toEqual(['a', 'b']);
    expect(await other.handedOff()).toEqual([]);
    // settled: a (its message came, the pool is not running it); b is new since (not named): kept though handed off long ago
    const fenceB = (await real.redis.hget(keys.fence, 'b')) ?? '';
    await real.redis.hset(keys.fence, 'b', `h:${Number(fenceB.slice(2, fenceB.indexOf(' '))) - 60_000} c1`);
    expect(await consumer.reconcile(['c'], { settled: ['a'] })).toEqual(['a']);
    expect((await real.redis.lrange(keys.processing('c1'), 0, -1)).sort()).toEqual(['b', 'c']);
    expect(await real.redis.lrange(keys.ready, 0, -1)).toEqual(['a']);
    expect((await queue.status('a'))?.status).toBe('Queued');
    // a settled hand-off the pool runs is kept; none settled: every hand-off kept
    expect(await consumer.reconcile(['b', 'c'], { settled: ['b'] })).toEqual([]);
    expect(await consumer.reconcile(['c'], { settled: [] })).toEqual([]);
    expect((await real.redis.lrange(keys.processing('c1'), 0, -1)).sort()).toEqual(['b', 'c']);
    // no settled list, a grace of 90 s (a pool without its barrier's answer): b, handed off 60 s ago, stays; with 30 s it goes
    expect(await consumer.reconcile(['c'], { graceMs: 90_000 })).toEqual([]);
    expect(await consumer.reconcile(['c'], { graceMs: 30_000 })).toEqual(['b']);
  });

  it("a claim of a task handed off to another consumer is refused", async () => {
    const { queue, keys } = await handOffSetup('ho-other', 1, 'c1');
    const other = new Consumer({ queue: 'ho-other', connection: real.redis, id: 'c2' });
    await other.register();
    await queue.enqueue({ id: 'a', type: 'x' });
    expect(await real.redis.hget(keys.fence, 'a')).toMatch(/^h:\d+ c1$/);
    const reply = await other.exchange([], [], { handOff: { spare: 1, claims: [{ id: 'a', worker: 'w1', ageMs: 1 }] } });
    expect(reply.claims).toEqual(['']);
    expect(await real.redis.hget(keys.fence, 'a')).toMatch(/^h:\d+ c1$/);
  });

  it('cancel of a handed-off task not claimed yet: Cancelled at once, out of the pool\'s processing list, the pool told on the control channel; its claim is refused', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-cancel');
    const control = await listen(keys.control);
    try {
      await queue.enqueue({ id: 'a', type: 'x' });
      expect(await real.redis.lrange(keys.processing('c1'), 0, -1)).toEqual(['a']);
      const result = await queue.cancel('a', { waitMs: 0 });
      expect(result.outcome).toBe('cancelled');
      expect((await queue.status('a'))?.status).toBe('Cancelled');
      expect(await real.redis.llen(keys.processing('c1'))).toBe(0);
      expect(await real.redis.hexists(keys.fence, 'a')).toBe(0);
      expect(await real.redis.lrange(keys.cancelled, 0, -1)).toEqual(['a']);
      await until('the control message', () => control.messages.includes('a'));
      const reply = await consumer.exchange([], [], { handOff: { spare: 1, claims: [{ id: 'a', worker: 'w1', ageMs: 1 }] } });
      expect(reply.claims).toEqual(['']);
      expect((await queue.status('a'))?.status).toBe('Cancelled');
      // nothing brings it back: a reconcile or a release finds nothing to return
      expect(await consumer.reconcile([])).toEqual([]);
    } finally {
      control.close();
    }
  });

  it('a claim whose cancel was requested first (the cancels hash) records Cancelled and answers c', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-cancel-c');
    await queue.enqueue({ id: 'a', type: 'x' });
    await real.redis.hset(keys.cancels, 'a', String(Date.now()));
    const reply = await consumer.exchange([], [], { handOff: { spare: 1, claims: [{ id: 'a', worker: 'w1', ageMs: 1 }] } });
    expect(reply.claims).toEqual(['c']);
    expect((await queue.status('a'))?.status).toBe('Cancelled');
    expect(await real.redis.llen(keys.processing('c1'))).toBe(0);
    expect(await real.redis.hexists(keys.cancels, 'a')).toBe(0);
  });

  it('a dead hand-off consumer: the janitor returns its unclaimed tasks (Queued, the recovery counted, no attempt) and takes it off the hand-off list', async () => {
    const { queue, keys } = await handOffSetup('ho-dead', 2);
    await queue.enqueueMany([
      { id: 'a', type: 'x' },
      { id: 'b', type: 'x' },
    ]);
    expect((await real.redis.lrange(keys.processing('c1'), 0, -1)).sort()).toEqual(['a', 'b']);
    // its heartbeats stopped long ago
    await real.redis.zadd(keys.consumers, 0, 'c1');
    await new Janitor({ queue: 'ho-dead', connection: real.redis, staleAfterMs: 1000 }).runOnce();
    expect((await real.redis.lrange(keys.ready, 0, -1)).sort()).toEqual(['a', 'b']);
    expect((await queue.status('a'))?.status).toBe('Queued');
    expect(await real.redis.hget(keys.recoveries, 'a')).toBe('1');
    expect(await real.redis.hexists(keys.attempts, 'a')).toBe(0);
    expect(await real.redis.llen(keys.handOffWaiters)).toBe(0);
    expect(await real.redis.llen(keys.processing('c1'))).toBe(0);
    expect(await real.redis.hlen(keys.fence)).toBeLessThanOrEqual(1); // the encoding field only
  });

  describe('no hand-off where it would change what runs first: the task stays ready and the pool is woken with a count', () => {
    /** Enqueues `id` (after `before`) to a queue whose hand-off pool c1 is listed; expects no hand-off and a count wake. */
    async function notHandedOff(name: string, before: (queue: Queue) => Promise<void>, input: Parameters<Queue['enqueue']>[0]): Promise<void> {
      const { queue, keys } = await handOffSetup(name);
      await before(queue);
      await real.redis.del(keys.handOffWaiters);
      await real.redis.rpush(keys.handOffWaiters, 'c1');
      const own = await listen(keys.wakeOf('c1'));
      try {
        await queue.enqueue(input);
        await until('a count wake', () => own.messages.length === 1);
        expect(own.messages).toEqual(['1']);
        expect(await real.redis.hexists(keys.fence, input.id ?? '')).toBe(0);
        expect(await real.redis.llen(keys.processing('c1'))).toBe(0);
      } finally {
        own.close();
      }
    }

    it('a paused queue', async () => {
      await notHandedOff('ho-paused', (q) => q.pause().then(() => undefined), { id: 'p', type: 'x' });
    });
    it('a queue with global limits', async () => {
      await notHandedOff('ho-limits', (q) => q.setLimit({ concurrency: 5 }), { id: 'r', type: 'x' });
    });
    it('a task with a priority of its own', async () => {
      await notHandedOff('ho-prio', async () => undefined, { id: 'q', type: 'x', priority: 1 });
    });
    it('a task ready already (the new one would jump it)', async () => {
      // 'old' enqueued while no pool is listed: it waits in the ready list
      await notHandedOff(
        'ho-backlog',
        async (q) => {
          await real.redis.del(queueKeys('ho-backlog').handOffWaiters);
          await q.enqueue({ id: 'old', type: 'x' });
        },
        { id: 'new', type: 'x' },
      );
    });
    it('a task of a higher priority waiting in the prioritized set', async () => {
      await notHandedOff('ho-prio-waiting', async (q) => void (await q.enqueue({ id: 'high', type: 'x', priority: 9 })), { id: 'new', type: 'x' });
    });
  });

  it('after a queue has seen a task with a priority (its priorities hash stays), a new default-priority task is still handed off', async () => {
    const { queue, consumer, keys } = await handOffSetup('ho-after-prio');
    await queue.enqueue({ id: 'high', type: 'x', priority: 9 }); // not handed off: it has a priority
    const fetched = await consumer.exchange([], ['w1'], { handOff: { spare: 0, claims: [] } });
    expect(fetched.tasks.map((t) => t.id)).toEqual(['high']);
    await consumer.exchange([{ id: 'high', worker: 'w1', token: fetched.tasks[0]?.token ?? '' }], [], { handOff: { spare: 1, claims: [] } });
    expect(await real.redis.exists(keys.priorities)).toBe(1);
    await queue.enqueueMany([
      { id: 'plain', type: 'x' },
      { id: 'five', type: 'x', priority: 5 },
    ]);
    expect((await real.redis.lrange(keys.processing('c1'), 0, -1)).sort()).toEqual(['plain']);
    expect(await real.redis.hget(keys.fence, 'plain')).toMatch(/^h:\d+ c1$/);
  });

  it('a body over 8 KiB stays ready (the pool is woken with a count); a small one beside it is handed off', async () => {
    const { queue, keys } = await handOffSetup('ho-big', 2);
    const own = await listen(keys.wakeOf('c1'));
    try {
      await queue.enqueueMany([
        { id: 'big', type: 'x', payload: 'y'.repeat(9000) },
        { id: 'small', type: 'x', payload: 1 },
      ]);
      await until('two messages', () => own.messages.length === 2);
      expect(own.messages.some((m) => m.startsWith('h small '))).toBe(true);
      expect(own.messages).toContain('1');
      expect(await real.redis.lrange(keys.ready, 0, -1)).toEqual(['big']);
    } finally {
      own.close();
    }
  });

  it('a consumer that is not a hand-off pool is never handed a task (an old pool beside a new one)', async () => {
    const config = { queue: 'ho-mixed', connection: real.redis };
    const keys = queueKeys('ho-mixed');
    const queue = new Queue(config);
    const old = new Consumer({ ...config, id: 'old' });
    await old.register();
    await old.exchange([], ['w1'], { spare: true });
    expect(await real.redis.lrange(keys.waiters, 0, -1)).toEqual(['old']);
    expect(await real.redis.llen(keys.handOffWaiters)).toBe(0);
    await queue.enqueue({ id: 'a', type: 'x' });
    expect(await real.redis.lrange(keys.ready, 0, -1)).toEqual(['a']);
    expect(await real.redis.hexists(keys.fence, 'a')).toBe(0);
  });
});
