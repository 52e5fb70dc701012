import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import type { WorkerPool } from '../worker-pool';

/**
 * In-memory Redis servers for a test file's pools: each `server()` is a
 * fresh one (ioredis-mock keeps one data set per port), `make()` opens a
 * connection to it. `cleanup()` (afterEach) stops the pools it was told of
 * and closes every connection.
 */
export class MockRedis {
  private port: number;
  private readonly opened: Redis[] = [];
  private pools: WorkerPool[] = [];

  /** @param base the first port of this file's range (files use distinct ranges, so parallel files never share data) */
  constructor(base: number) {
    this.port = base + Math.floor(Math.random() * 10000);
  }

  /** A fresh in-memory Redis: its port, and a factory of connections to it. */
  server(): { p: number; make: () => Redis } {
    const p = this.port++;
    const make = (): Redis => {
      const r = new RedisMock({ port: p });
      this.opened.push(r);
      return r;
    };
    return { p, make };
  }

  /** Stops `pool` at cleanup. */
  track<P extends WorkerPool>(pool: P): P {
    this.pools.push(pool);
    return pool;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.stop(0)));
    this.pools = [];
    for (const r of this.opened.splice(0)) r.disconnect();
  }
}
