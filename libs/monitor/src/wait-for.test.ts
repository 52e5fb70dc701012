import { StatusRecorder, TaskStatus } from '@taskq/recorder';
import { MonitorNotRunningError } from './monitor-not-running-error';
import { MonitorTimeoutError } from './monitor-timeout-error';
import { Harness } from './test-support/harness';

describe('Monitor.waitFor', () => {
  let h: Harness;

  afterEach(async () => {
    jest.restoreAllMocks();
    await h.close();
  });

  it('resolves from statuses recorded before it was called, without any event', async () => {
    h = new Harness();
    // Recorded while nobody listens: only the status hash knows.
    const done = await h.record('t1', TaskStatus.Done, { attempt: 1 });
    const failed = await h.record('t2', TaskStatus.Failed, { attempt: 2, reason: 'boom' });
    await h.monitor.start();

    const result = await h.monitor.waitFor(['t2', 't1']);

    expect([...result.keys()]).toEqual(['t2', 't1']);
    expect(result.get('t1')).toEqual(done);
    expect(result.get('t2')).toEqual(failed);
    expect(h.monitor.latest('t1')).toEqual(done);
  });

  it('waits for one task id given as a string and resolves with its record (not a Map, not the id\'s characters)', async () => {
    h = new Harness();
    await h.monitor.start();
    await h.record('job-42', TaskStatus.Queued);
    const waiting = h.monitor.waitFor('job-42');
    const done = await h.record('job-42', TaskStatus.Done, { attempt: 1 });
    expect(await waiting).toEqual(done);
    const inProgress = await h.record('job-43', TaskStatus.InProgress, { attempt: 1 });
    expect(await h.monitor.waitFor('job-43', [TaskStatus.InProgress])).toEqual(inProgress);
  });

  it('resolves from live events once every task reaches a final status', async () => {
    h = new Harness();
    await h.monitor.start();
    await h.record('t1', TaskStatus.Queued);
    await h.record('t2', TaskStatus.Queued);
    let resolved = false;
    const waiting = h.monitor.waitFor(['t1', 't2']).then((r) => {
      resolved = true;
      return r;
    });

    const firstDone = h.next('t1', TaskStatus.Done);
    await h.record('t1', TaskStatus.InProgress, { attempt: 1 });
    await h.record('t1', TaskStatus.Done, { attempt: 1 });
    await firstDone;
    expect(resolved).toBe(false); // t2 still queued

    await h.record('t2', TaskStatus.Failed, { attempt: 1, reason: 'x' });
    const result = await waiting;
    expect(result.get('t1')?.status).toBe('Done');
    expect(result.get('t2')).toMatchObject({ status: 'Failed', reason: 'x' });
  });

  it('resolves without a Redis read when the statuses are already known', async () => {
    h = new Harness();
    await h.monitor.start();
    const done = h.next('t1', TaskStatus.Done);
    await h.record('t1', TaskStatus.Done);
    await done;
    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    const result = await h.monitor.waitFor(['t1']);
    expect(result.get('t1')?.status).toBe('Done');
    expect(getMany).not.toHaveBeenCalled();
  });

  it('waits for the statuses it is given', async () => {
    h = new Harness();
    await h.monitor.start();
    const waiting = h.monitor.waitFor(['t1'], [TaskStatus.InProgress]);
    await h.record('t1', TaskStatus.Queued);
    await h.record('t1', TaskStatus.InProgress, { attempt: 1, worker: 'w9' });
    const result = await waiting;
    expect(result.get('t1')).toMatchObject({ status: 'InProgress', worker: 'w9' });
  });

  it('sees a change that lands while it reads the recorded statuses', async () => {
    h = new Harness();
    await h.monitor.start();
    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    // The read finds nothing, and the task finishes right after it: only the
    // listener, registered before the read, can catch that.
    getMany.mockImplementationOnce(async (ids) => {
      await h.record('t1', TaskStatus.Done);
      return new Map(ids.map((id) => [id, undefined]));
    });
    const result = await h.monitor.waitFor(['t1'], undefined, { timeoutMs: 5000 });
    expect(result.get('t1')?.status).toBe('Done');
    expect(getMany).toHaveBeenCalledWith(['t1']);
  });

  it('rejects with MonitorTimeoutError listing the pending tasks', async () => {
    h = new Harness();
    await h.record('t1', TaskStatus.Done);
    await h.record('t2', TaskStatus.InProgress);
    await h.monitor.start();

    const err = await h.monitor.waitFor(['t1', 't2', 't3'], undefined, { timeoutMs: 30 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(MonitorTimeoutError);
    const timeout = err as MonitorTimeoutError;
    expect(timeout.name).toBe('MonitorTimeoutError');
    expect(timeout.pendingIds).toEqual(['t2', 't3']);
    expect(timeout.total).toBe(3);
    expect(timeout.message).toContain('2 of 3 tasks still pending');
  });

  it('rejects with the abort reason when its signal aborts', async () => {
    h = new Harness();
    await h.monitor.start();
    const controller = new AbortController();
    const waiting = h.monitor.waitFor(['t1'], undefined, { signal: controller.signal });
    controller.abort(new Error('user gave up'));
    await expect(waiting).rejects.toThrow('user gave up');

    const aborted = AbortSignal.abort(new Error('already'));
    await expect(h.monitor.waitFor(['t1'], undefined, { signal: aborted })).rejects.toThrow('already');
  });

  it('rejects when the monitor is not running, or stops while waiting', async () => {
    h = new Harness();
    await expect(h.monitor.waitFor(['t1'])).rejects.toBeInstanceOf(MonitorNotRunningError);

    await h.monitor.start();
    const waiting = h.monitor.waitFor(['t1']);
    await h.monitor.stop();
    await expect(waiting).rejects.toBeInstanceOf(MonitorNotRunningError);
  });

  it('awaits a start() in progress', async () => {
    h = new Harness();
    await h.record('t1', TaskStatus.Done);
    void h.monitor.start();
    const result = await h.monitor.waitFor(['t1']);
    expect(result.get('t1')?.status).toBe('Done');
  });

  it('resolves at once for no tasks, and removes its listeners when done', async () => {
    h = new Harness();
    await h.monitor.start();
    expect((await h.monitor.waitFor([])).size).toBe(0);

    const waiting = h.monitor.waitFor(['t1']);
    await h.record('t1', TaskStatus.Done);
    await waiting;
    // No listener left behind by either wait (internal registry, checked directly).
    expect((h.monitor as unknown as { listeners: { size: number } }).listeners.size).toBe(0);
  });
});
