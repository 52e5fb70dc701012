import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { silentLogger } from '@taskq/recorder';
import { WakeSignal } from './wake-signal';
import { waitFor } from './test-support/wait-for';

// How a pool reads its queues' wake messages (targeted wake, issue 18), on a real redis-server.

let server: RedisServer;
let pub: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  pub = new Redis(server.url);
});

afterAll(async () => {
  pub?.disconnect();
  await server?.stop();
});

describe('WakeSignal', () => {
  it('counts plain wakes, those on its own channel and those that name this pool, and skips those that name others only', async () => {
    const sub = new Redis(server.url);
    const wake = new WakeSignal(sub, [{ wake: 'w', control: 'c', consumerId: 'me', ownWake: 'w:me' }], () => undefined, silentLogger);
    try {
      // start() resolves once subscribed, after the connection's 'ready' (counted as a wake with no count): figures from here on
      await wake.start();
      const base = { ...wake.countsOf(0), skipped: wake.skippedOf(0) };
      const seen = async (message: string, expected: { wakes: number; announced: number; skipped: number }, channel = 'w'): Promise<void> => {
        await pub.publish(channel, message);
        const now = () => ({ wakes: wake.wakesOf(0) - base.wakes, announced: wake.countsOf(0).announced - base.announced, skipped: wake.skippedOf(0) - base.skipped });
        await waitFor(`after "${message}": ${JSON.stringify(expected)}`, () => now().wakes + now().skipped === expected.wakes + expected.skipped);
        expect(now()).toEqual(expected);
        expect(wake.countsOf(0).unknowns).toBe(base.unknowns);
      };
      await seen('2', { wakes: 1, announced: 2, skipped: 0 });
      await seen('1 me other', { wakes: 2, announced: 3, skipped: 0 });
      await seen('1 other', { wakes: 2, announced: 3, skipped: 1 });
      // a plain count (enqueue with nobody waiting, release, recovery, requeue, resume…) is never skipped
      await seen('1', { wakes: 3, announced: 4, skipped: 1 });
      await seen('2 other me', { wakes: 4, announced: 6, skipped: 1 });
      // the pool's own channel (an enqueue popped it from the waiters list): the count, for this pool alone
      await seen('3', { wakes: 5, announced: 9, skipped: 1 }, 'w:me');
      // another consumer's own channel is not subscribed: nothing arrives
      await pub.publish('w:other', '5');
      await seen('1', { wakes: 6, announced: 10, skipped: 1 });
    } finally {
      await wake.stop();
    }
  });
});
