import type { Task } from '@taskq/queue';
import { sleepTask } from './sleep-task';

/** Runs the sleep handler directly, outside a pool. */
function run(task: Partial<Task>): Promise<unknown> {
  const full = { id: 't', type: 'sleep', enqueuedAt: 0, maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 }, priority: 5, payload: null, ...task } as Task;
  return Promise.resolve(sleepTask(full, { signal: new AbortController().signal, attempt: 1, worker: 'w', logger: console as never, progress: () => undefined }));
}

describe('sleepTask result', () => {
  it('is { sleptMs } for a plain task', async () => {
    await expect(run({ payload: { ms: 1 } })).resolves.toEqual({ sleptMs: 1 });
  });

  it('as a flow step, adds totalMs: its own ms plus the totals (or sleptMs) of its inputs', async () => {
    const flow = { id: 'f', step: 'cb', inputs: { a: { sleptMs: 5, totalMs: 12 }, b: { sleptMs: 7 }, c: null, d: 'x' }, errors: {} };
    await expect(run({ payload: { ms: 2 }, flow })).resolves.toEqual({ sleptMs: 2, totalMs: 2 + 12 + 7 });
    await expect(run({ payload: { ms: 3 }, flow: { ...flow, inputs: {} } })).resolves.toEqual({ sleptMs: 3, totalMs: 3 });
  });
});
