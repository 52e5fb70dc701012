import type { Redis } from 'ioredis';
import { connectRedis } from './connect';
import { duplicateClient } from './redis-handle';
import { useRedisServer } from './test-support/redis-server';

const real = useRedisServer();

/**
 * The rejections nobody handled while `act` ran and in the few turns of the
 * event loop after it (Node reports one once the microtasks of the turn it
 * happened in have run).
 */
async function unhandledRejectionsDuring(act: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await act();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

const ended = (client: Redis): Promise<void> => new Promise((resolve) => (client.status === 'end' ? resolve() : client.once('end', () => resolve())));

describe("a subscriber closed while ioredis subscribes it again after a reconnect (ioredis sends that SUBSCRIBE without a catch)", () => {
  it.each([
    ['a duplicate (the subscribers taskq opens)', async (base: Redis) => duplicateClient(base, { enableOfflineQueue: true })],
    ['a client of connectRedis', async () => connectRedis(real.server.url)],
  ])('%s: no unhandled rejection (it ended a stopping worker with exit 1), and a caller still sees its own subscribe fail', async (_what, make) => {
    const base = await connectRedis(real.server.url);
    const sub = await make(base);
    sub.on('error', () => undefined);
    try {
      await sub.subscribe('taskq:test:a', 'taskq:test:b');
      await sub.psubscribe('taskq:test:p:*');
      let own: Promise<unknown> | undefined;
      const unhandled = await unhandledRejectionsDuring(async () => {
        // ioredis emits 'ready' on the tick after it sent the SUBSCRIBE and
        // PSUBSCRIBE that restore the subscriptions: the connection is
        // closed (by its user) and dropped before their replies come
        const readyAgain = new Promise<void>((resolve) =>
          sub.once('ready', () => {
            own = sub.subscribe('taskq:test:c');
            own.catch(() => undefined);
            sub.disconnect();
            (sub as unknown as { stream: { destroy(): void } }).stream.destroy();
            resolve();
          }),
        );
        await base.client('KILL', 'TYPE', 'pubsub');
        await readyAgain;
        await ended(sub);
      });
      expect(unhandled.map(String)).toEqual([]);
      await expect(own).rejects.toThrow('Connection is closed.');
    } finally {
      if (sub.status !== 'end') sub.disconnect();
      await base.quit();
    }
  });
});
