import type { Task } from '@taskq/queue';
import { silentLogger } from '@taskq/recorder';
import { sleepTask } from './sleep-task';
import type { TaskContext } from './handler';

const context = (attempt = 1): TaskContext => ({
  signal: new AbortController().signal,
  attempt,
  worker: 'w-1-1',
  logger: silentLogger,
  progress: () => undefined,
});

const task = (payload: Task['payload'], flow?: Task['flow']): Task =>
  ({ id: 't', type: 'sleep', payload, attempt: 1, ...(flow ? { flow } : {}) }) as unknown as Task;

describe('sleepTask', () => {
  it('returns { sleptMs } without a value (as before)', async () => {
    await expect(sleepTask(task({ ms: 0 }), context())).resolves.toEqual({ sleptMs: 0 });
  });

  it('with a value: sum is the value plus the sums of its flow inputs (other inputs count nothing)', async () => {
    await expect(sleepTask(task({ ms: 0, value: 7 }), context())).resolves.toEqual({ sleptMs: 0, sum: 7 });
    const flow = { id: 'f', step: 'cb', inputs: { a: { sleptMs: 0, sum: 10 }, b: { sleptMs: 3, sum: 100 }, c: null, d: { sleptMs: 1 } }, errors: { e: 'boom' } };
    // as a flow step it has totalMs too: its ms plus its inputs' totalMs or sleptMs (0 + 0 + 3 + 1)
    await expect(sleepTask(task({ ms: 0, value: 1 }, flow), context())).resolves.toEqual({ sleptMs: 0, totalMs: 4, sum: 111 });
  });

  it('as a flow step without a value: totalMs is its own ms plus the totals (or sleptMs) of its inputs', async () => {
    const flow = { id: 'f', step: 'cb', inputs: { a: { sleptMs: 5, totalMs: 12 }, b: { sleptMs: 7 }, c: null, d: 'x' }, errors: {} };
    await expect(sleepTask(task({ ms: 2 }, flow), context())).resolves.toEqual({ sleptMs: 2, totalMs: 2 + 12 + 7 });
    await expect(sleepTask(task({ ms: 3 }, { ...flow, inputs: {} }), context())).resolves.toEqual({ sleptMs: 3, totalMs: 3 });
  });

  it('still fails its planned attempts', async () => {
    await expect(Promise.resolve(sleepTask(task({ ms: 0, value: 1, failAttempts: 1 }), context(1)))).rejects.toThrow(/planned failure of attempt 1/);
  });
});
