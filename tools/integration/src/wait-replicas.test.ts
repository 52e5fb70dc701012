import { Redis } from 'ioredis';
import { queueKeys } from '@taskq/queue';
import { respCommand, startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps } from './test-support/app-process';
import { waitUntil } from './test-support/wait';

// The producer's --wait-replicas (the Queue's waitForReplicas option) on a master
// with one replica of its own (this file starts both: single-server only).

let master: RedisServer;
let replica: RedisServer;
let redis: Redis;

beforeAll(async () => {
  master = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await waitUntil(async () => String(await respCommand(replica.port, ['INFO', 'replication'])).includes('master_link_status:up'), {
    timeoutMs: 15_000,
    what: 'the replica in sync',
  });
  redis = new Redis(master.url);
}, 30_000);

afterAll(async () => {
  await killAllApps();
  redis?.disconnect();
  await replica?.stop();
  await master?.stop();
});

describe('producer --wait-replicas', () => {
  it('with the replica up: exits 0, and every task it enqueued is on the replica', async () => {
    const queue = 'wait-replicas-up';
    const producer = AppProcess.start('producer', ['30', '--redis', master.url, '--queue', queue, '--no-wait', '--id-prefix', 'up-', '--wait-replicas', '1']);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, stderr: producer.stderr }).toEqual({ code: 0, stderr: '' });
    const ids = Array.from({ length: 30 }, (_, i) => `up-${i + 1}`);
    const onReplica = await Promise.all(ids.map((id) => respCommand(replica.port, ['HEXISTS', queueKeys(queue).tasks, id])));
    expect(onReplica).toEqual(ids.map(() => 1));
  });

  it('with the replica down: exits 1 naming the tasks no replica confirmed, which stay queued on the master', async () => {
    await replica.stop();
    const queue = 'wait-replicas-down';
    const producer = AppProcess.start('producer', [
      '3', '--redis', master.url, '--queue', queue, '--no-wait', '--id-prefix', 'down-', '--wait-replicas', '1', '--wait-replicas-timeout-ms', '100',
    ]);
    const exit = await producer.waitForExit(30_000);
    expect(exit.code).toBe(1);
    expect(producer.stderr).toContain(
      `3 task(s) of queue ${queue} (down-1, down-2, down-3) written to the master, but only 0 of 1 replica(s) confirmed it within 100 ms: a failover before they get it would lose it`,
    );
    expect(await redis.hlen(queueKeys(queue).tasks)).toBe(3);
  });
});
