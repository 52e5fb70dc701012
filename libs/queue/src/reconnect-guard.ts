import type { Redis } from 'ioredis';

/** The commands ioredis sends by itself when it is ready again after a reconnect, to restore the connection's state. */
const RESTORING = ['select', 'subscribe', 'psubscribe', 'ssubscribe'] as const;

const guarded = new WeakSet<Redis>();

/**
 * Makes a rejection of the commands ioredis (5.9) sends without a catch when
 * a connection is ready again (SELECT of the database, SUBSCRIBE/PSUBSCRIBE/
 * SSUBSCRIBE of what it was subscribed to) a handled one. Unhandled, it ended
 * the process: a worker stopped (quit) while its subscriber was subscribing
 * again after a Redis restart exited 1 with "Connection is closed."
 * (redis/ioredis#2187 fixes it in ioredis itself). The promise each call
 * returns is the same one, so a caller's own subscribe() still sees its
 * failure; ioredis's own calls have nobody to tell, and the connection's
 * 'error' and 'end' events already say what happened. Returns `client`.
 */
export function guardStateRestore<T extends Redis>(client: T): T {
  if (guarded.has(client)) return client;
  guarded.add(client);
  const target = client as unknown as Record<string, unknown>;
  for (const name of RESTORING) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...args: unknown[]): unknown {
      const reply: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (reply instanceof Promise) reply.catch(() => undefined);
      return reply;
    };
  }
  return client;
}
