import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';

let nextPort = 20000 + Math.floor(Math.random() * 10000);
const open: Redis[] = [];

/**
 * A fresh in-memory Redis for one test. ioredis-mock instances on the same
 * host/port share data; a port of its own isolates each test. `another()`
 * opens a second connection to the same data (for pub/sub).
 */
export function mockRedis(): { redis: Redis; another: () => Redis } {
  const port = nextPort++;
  const make = (): Redis => {
    const r = new RedisMock({ port }) as unknown as Redis;
    open.push(r);
    return r;
  };
  return { redis: make(), another: make };
}

/** Disconnects every mock opened so far (call in afterEach). */
export function closeMocks(): void {
  for (const r of open.splice(0)) r.disconnect();
}
