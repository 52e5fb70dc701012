import RedisMock from 'ioredis-mock';
import { Redis } from 'ioredis';

let nextPort = 20000 + Math.floor(Math.random() * 10000);
const open: Redis[] = [];

/**
 * The Redis the queue's unit suites run on. They run twice (jest.config.cjs
 * has two projects): on ioredis-mock (Lua 5.3 under fengari) and on a real
 * redis-server (Lua 5.1), which real-redis-setup.ts starts for each test file
 * and names here.
 */
let realServerUrl: string | undefined;

/** Called by real-redis-setup.ts: the suites of this file run on that server. */
export function useRealServer(url: string | undefined): void {
  realServerUrl = url;
}

/** Which Redis the suites of this file run on. */
export function backendName(): string {
  return realServerUrl ? 'redis-server' : 'ioredis-mock';
}

/**
 * A fresh Redis for one test. On ioredis-mock, instances on the same
 * host/port share data: a port of its own isolates each test. On the real
 * server (one per test file, tests of a file run one at a time) closeMocks()
 * flushes it. `another()` opens a second connection to the same data (pub/sub).
 */
export function mockRedis(): { redis: Redis; another: () => Redis } {
  const url = realServerUrl;
  if (url) {
    const make = (): Redis => {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      open.push(r);
      return r;
    };
    return { redis: make(), another: make };
  }
  const port = nextPort++;
  const make = (): Redis => {
    const r = new RedisMock({ port });
    open.push(r);
    return r;
  };
  return { redis: make(), another: make };
}

/** Closes every connection opened so far and, on the real server, empties it (call in afterEach). */
export async function closeMocks(): Promise<void> {
  const all = open.splice(0);
  if (realServerUrl && all.length > 0) {
    const admin = new Redis(realServerUrl, { maxRetriesPerRequest: 1 });
    await admin.flushall();
    await admin.quit();
  }
  for (const r of all) r.disconnect();
}
