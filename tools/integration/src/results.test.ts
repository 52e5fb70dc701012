import { Queue } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

describe('task results through the worker app', () => {
  it("stores the sleep task's { sleptMs }; a result over --max-result-bytes makes its task Failed with the reason, and the worker runs the next task", async () => {
    const name = newQueueName('results');
    const redis = await clients.connect();
    const queue = new Queue({ queue: name, connection: redis });
    // {"sleptMs":5} is 13 bytes, {"sleptMs":10} 14
    const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--queue', name, '--max-result-bytes', '13']);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const ids = ['fits', 'too-big', 'after'];
    await queue.enqueueMany([
      { id: 'fits', type: 'sleep', payload: { ms: 5 } },
      { id: 'too-big', type: 'sleep', payload: { ms: 10 }, maxAttempts: 3 },
      { id: 'after', type: 'sleep', payload: { ms: 5 } },
    ]);
    const records = await waitUntil(
      async () => {
        const all = await queue.statuses(ids);
        return [...all.values()].every((r) => r?.status === 'Done' || r?.status === 'Failed') && all;
      },
      { timeoutMs: 10_000, what: 'the three tasks to end', details: () => worker.tail() },
    );
    expect(records.get('fits')).toMatchObject({ status: 'Done' });
    // not retried: the same handler would return the same
    expect(records.get('too-big')).toMatchObject({ status: 'Failed', attempt: 1, reason: 'result of 14 bytes is larger than maxResultBytes (13)' });
    expect(records.get('after')).toMatchObject({ status: 'Done' });
    expect([...(await queue.results(ids)).entries()]).toEqual([['fits', { sleptMs: 5 }], ['too-big', undefined], ['after', { sleptMs: 5 }]]);
    expect(await queue.rejectedIds()).toEqual(['too-big']);
    expect(worker.lines.some((l) => l.msg.startsWith('FAILED too-big') && l.msg.includes('result of 14 bytes is larger than maxResultBytes (13)'))).toBe(true);

    // a requeued Failed task runs again (and, the limit unchanged, fails the same way)
    expect(await queue.requeueFailed(['too-big'])).toEqual(['too-big']);
    await waitUntil(async () => (await queue.status('too-big'))?.seq !== records.get('too-big')?.seq && (await queue.status('too-big'))?.status === 'Failed', {
      timeoutMs: 10_000,
      what: 'too-big to fail again',
      details: () => worker.tail(),
    });
    expect(await queue.result('too-big')).toBeUndefined();
    worker.signal('SIGTERM');
    expect((await worker.waitForExit(15_000)).code).toBe(0);
    expect(worker.stderr).toBe('');
  }, 30_000);

  it('refuses --max-result-bytes 0: exit 2', async () => {
    const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--max-result-bytes', '0']);
    const exit = await worker.waitForExit(15_000);
    expect(exit.code).toBe(2);
    expect(worker.stderr).toMatch(/--max-result-bytes must be a whole number >= 1, got 0/);
  });
});
