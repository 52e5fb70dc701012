import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { WorkerPool } from './worker-pool';
import { waitFor } from './test-support/wait-for';

describe('a WorkerPool given a client that SELECTed another database (real redis-server)', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('beats from its thread in that database, not in db 0', async () => {
    const client = new Redis(server.url);
    const db0 = new Redis(server.url);
    await client.select(5);
    const pool = new WorkerPool({ queue: 'selected-db', connection: client, consumerId: 'selected-db-pool', heartbeatMs: 50, janitor: false });
    /** The heartbeat thread's connection in CLIENT LIST once it ran its script: its fields. */
    const beatingConnection = async (): Promise<Record<string, string> | undefined> => {
      const lines = (await db0.client('LIST')) as string;
      const line = lines.split('\n').find((l) => l.includes(' name=taskq-heartbeat-selected-db-pool ') && / cmd=eval/.test(l));
      return line === undefined ? undefined : Object.fromEntries(line.split(' ').map((f): [string, string] => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    };
    try {
      await pool.start();
      await waitFor('the heartbeat thread running its script', async () => (await beatingConnection()) !== undefined, { timeoutMs: 5000 });
      expect((await beatingConnection())?.['db']).toBe('5');
      expect(await db0.keys('taskq:*')).toEqual([]);
    } finally {
      await pool.stop();
      client.disconnect();
      db0.disconnect();
    }
  });
});
