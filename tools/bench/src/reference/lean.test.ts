import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Redis } from 'ioredis';
import { payloads } from '../payload';
import { LeanProducer } from '../systems/lean-producer';
import { redisTarget } from '../systems/producer';
import { leanWorkerFactory } from '../workers/lean-worker';
import { LEAN_CHANNEL, LEAN_HASHTABLE_FIELD, LEAN_KEYS, LEAN_LUA, LEAN_SCRIPT_KEYS, LEAN_SYSTEMS, leanFeatures } from './lean';

// The lean reference is a measuring stick (see lean.ts); these checks make
// sure each variant does the work it claims, on a real redis-server.

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterAll(async () => {
  await redis.quit();
  await server.stop();
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('leanFeatures', () => {
  it('each variant adds one guarantee to the one before', () => {
    expect(LEAN_SYSTEMS.map((s) => leanFeatures(s).join('+'))).toEqual([
      '',
      'list',
      'list+fence',
      'list+fence+attempts',
      'list+fence+attempts+json',
      'list+fence+attempts+json+workers',
    ]);
  });
});

describe.each(LEAN_SYSTEMS)('%s on a real redis-server', (system) => {
  const features = leanFeatures(system);

  beforeEach(async () => {
    await redis.flushall();
  });

  it('runs every task once, records each Done, publishes every transition and leaves nothing held', async () => {
    const n = 300;
    const producer = await LeanProducer.open(system, redisTarget(server.url));
    const events: string[] = [];
    const sub = new Redis(server.url);
    sub.on('message', (_channel: string, message: string) => events.push(message));
    await sub.subscribe(LEAN_CHANNEL);
    const seen: number[] = [];
    const worker = await leanWorkerFactory(system)(
      { system, url: server.url, concurrency: 8, retainAtLeast: n, recordLatency: false },
      (p) => seen.push(p.i),
    );
    try {
      await producer.enqueueBulk(payloads(n));
      expect(await producer.queued()).toBe(n);
      await worker.go();
      await waitUntil('the queue to drain', async () => (await producer.progress(n)).remaining === 0);
      await worker.stop();
      await waitUntil('every transition to be published', async () => events.length > 0 && countEvents(events, features.includes('json')) === 2 * n);
    } finally {
      await producer.close();
      await sub.quit();
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const statuses = Object.values(await redis.hgetall(LEAN_KEYS.status));
    expect(statuses).toHaveLength(n);
    for (const s of statuses) {
      if (features.includes('json')) {
        const rec = JSON.parse(s) as { status: string; attempt: number; seq: number; worker?: string };
        expect(rec).toMatchObject({ status: 'Done', attempt: 1 });
        expect(rec.seq).toBeGreaterThan(0);
        if (features.includes('workers')) expect(rec.worker).toMatch(new RegExp(`^${system}-\\d+#\\d+$`));
        else expect(rec.worker).toBeUndefined();
      } else {
        expect(s).toMatch(/^Done:\d+$/);
      }
    }
    if (features.includes('json')) {
      const published = events.flatMap((m) => JSON.parse(m) as { id: string; status: string; seq: number; worker?: string }[]);
      expect(new Set(published.map((r) => r.seq)).size).toBe(2 * n);
      expect(published.filter((r) => r.status === 'InProgress')).toHaveLength(n);
      for (const r of published) {
        if (features.includes('workers')) expect(r.worker).toMatch(new RegExp(`^${system}-\\d+#\\d+$`));
        else expect(r.worker).toBeUndefined();
      }
    }
    expect(new Set(await redis.lrange(LEAN_KEYS.finished, 0, -1)).size).toBe(n);
    // nothing held any more (the hashes keep only the field that makes them hashtables)
    expect(await heldIn(LEAN_KEYS.processing)).toEqual([]);
    expect(await heldIn(LEAN_KEYS.fence)).toEqual([]);
    if (!features.includes('list')) expect(await redis.object('ENCODING', LEAN_KEYS.processing)).toBe('hashtable');
    if (features.includes('fence')) expect(await redis.object('ENCODING', LEAN_KEYS.fence)).toBe('hashtable');
    // first attempts all: the counts travel in the tokens, nothing is written to the attempts hash
    expect(await redis.exists(LEAN_KEYS.attempts)).toBe(0);
  });

  /** The task ids a processing or fence key holds: a list's items, or a hash's fields but the hashtable one. */
  const heldIn = async (key: string): Promise<string[]> =>
    (await redis.type(key)) === 'hash' ? (await redis.hkeys(key)).filter((f) => f !== LEAN_HASHTABLE_FIELD) : redis.lrange(key, 0, -1);

  const call = (args: (string | number)[]) =>
    redis.eval(LEAN_LUA, LEAN_SCRIPT_KEYS.length, ...LEAN_SCRIPT_KEYS, features.join(','), LEAN_CHANNEL, ...args) as Promise<unknown[]>;

  it(`holds a fetched task in its processing ${features.includes('list') ? 'list' : 'hash'} until it is acknowledged`, async () => {
    const producer = await LeanProducer.open(system, redisTarget(server.url));
    await producer.enqueueBulk(payloads(2));
    await producer.close();
    const worker = features.includes('workers') ? ['w1'] : [];
    const [, id, body, attempt, token] = await call([0, 1, ...worker]);
    expect(JSON.parse(String(body))).toMatchObject({ tag: 'bench' });
    expect(attempt).toBe(1);
    expect(await redis.type(LEAN_KEYS.processing)).toBe(features.includes('list') ? 'list' : 'hash');
    expect(await heldIn(LEAN_KEYS.processing)).toEqual([String(id)]);
    const ack = [String(id), ...worker, ...(features.includes('fence') ? [String(token)] : [])];
    expect((await call([1, ...ack, 0]))[0]).toBe(1);
    expect(await heldIn(LEAN_KEYS.processing)).toEqual([]);
    if (features.includes('list')) {
      // the other task was never fetched: an ack of it is refused (with fencing, by its missing token already)
      const other = features.includes('fence') ? ['2', ...worker, '1'] : ['2', ...worker];
      expect(String(id)).toBe('1');
      expect((await call([1, ...other, 0]))[0]).toBe(0);
      expect(await redis.llen(LEAN_KEYS.finished)).toBe(1);
    }
  });

  if (features.includes('attempts')) {
    it('counts the attempts made before: the count moves from the attempts hash into the token, and the Done record has it', async () => {
      const producer = await LeanProducer.open(system, redisTarget(server.url));
      await producer.enqueueBulk(payloads(2));
      await producer.close();
      await redis.hset(LEAN_KEYS.attempts, '1', '2');
      const worker = features.includes('workers') ? ['w1', 'w2'] : [];
      const fetched = await call([0, 2, ...worker]);
      const byId = new Map([1, 5].map((k) => [String(fetched[k]), { attempt: fetched[k + 2], token: String(fetched[k + 3]) }]));
      expect(byId.get('1')).toMatchObject({ attempt: 3, token: expect.stringMatching(/^\d+:3$/) as unknown });
      expect(byId.get('2')).toMatchObject({ attempt: 1, token: expect.stringMatching(/^\d+:1$/) as unknown });
      expect(await redis.exists(LEAN_KEYS.attempts)).toBe(0);
      const ack = [...byId.entries()].flatMap(([id, t], k) => [id, ...(features.includes('workers') ? [worker[k]] : []), t.token]);
      expect((await call([2, ...ack, 0]))[0]).toBe(2);
      if (features.includes('json')) {
        const done = JSON.parse(String(await redis.hget(LEAN_KEYS.status, '1'))) as { status: string; attempt: number };
        expect(done).toMatchObject({ status: 'Done', attempt: 3 });
      }
    });
  }

  if (features.includes('fence')) {
    it('refuses an ack with a stale fencing token', async () => {
      const producer = await LeanProducer.open(system, redisTarget(server.url));
      await producer.enqueueBulk(payloads(1));
      await producer.close();
      const worker = features.includes('workers') ? ['w1'] : [];
      const fetched = await call([0, 1, ...worker]);
      const [, id, , , token] = fetched;
      expect(typeof token).toBe('string');
      const refused = await call([1, String(id), ...worker, `${String(token)}0`, 0]);
      expect(refused[0]).toBe(0);
      expect(await redis.llen(LEAN_KEYS.finished)).toBe(0);
      const accepted = await call([1, String(id), ...worker, String(token), 0]);
      expect(accepted[0]).toBe(1);
      expect(await redis.llen(LEAN_KEYS.finished)).toBe(1);
    });
  }
});

/** Transitions in the published messages: JSON arrays of records, or comma-separated id:status pairs. */
function countEvents(messages: readonly string[], json: boolean): number {
  return messages.reduce((sum, m) => sum + (json ? (JSON.parse(m) as unknown[]).length : m.split(',').length), 0);
}
