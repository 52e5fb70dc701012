import type { Consumer } from '@taskq/queue';
import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import type { AckBatcher } from './ack-batcher';
import { TaskRunner } from './task-runner';

function warningsLogger(lines: string[]): Logger {
  const keep: LogFn = (a: object | string, msg?: string) => {
    lines.push(typeof a === 'string' ? a : (msg ?? ''));
  };
  return { ...silentLogger, warn: keep, child: () => warningsLogger(lines) };
}

/** A runner whose recordings retry after 1 ms (doubling up to 20 ms). */
function runner(warnings: string[]): TaskRunner {
  const consumer = { keys: { queue: 'q' } } as unknown as Consumer;
  return new TaskRunner(consumer, new Map(), new Map(), warningsLogger(warnings), {} as AckBatcher, 1);
}

const oom = () => new Error("OOM command not allowed when used memory > 'maxmemory'.");

describe('TaskRunner recording an outcome', () => {
  it('holds it and keeps trying for as long as Redis refuses it (well past 20 tries), logging the 1st try and every 10th', async () => {
    const warnings: string[] = [];
    let calls = 0;
    const call = () => (++calls <= 45 ? Promise.reject(oom()) : Promise.resolve('Done'));
    await expect(runner(warnings).record(call)).resolves.toBe('Done');
    expect(calls).toBe(46);
    expect(warnings).toHaveLength(5); // tries 1, 10, 20, 30, 40
    expect(warnings[0]).toBe("recording a task outcome failed (try 1); holding it and retrying until Redis takes it: Error: OOM command not allowed when used memory > 'maxmemory'.");
  });

  it('stops holding it when the pool gives up (end of its stop): rejects with the last error, at once', async () => {
    const r = runner([]);
    let calls = 0;
    const pending = r.record(() => {
      calls++;
      return Promise.reject(new Error(`refused ${calls}`));
    });
    const rejected = expect(pending).rejects.toThrow(/^refused \d+$/);
    // let it retry a few times, then give up
    while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 1));
    r.giveUpRecording();
    await rejected;
    const after = calls;
    // a recording that fails after the give-up is not tried again
    await expect(r.record(() => Promise.reject(new Error('late')))).rejects.toThrow('late');
    expect(calls).toBe(after);
  });
});
