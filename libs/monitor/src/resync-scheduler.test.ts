import { ResyncScheduler } from './resync-scheduler';

/** A run whose completion the test controls. */
function controlledRun(): { run: jest.Mock<Promise<void>, []>; finish: () => void } {
  const finishers: Array<() => void> = [];
  const run = jest.fn(
    () =>
      new Promise<void>((resolve) => {
        finishers.push(resolve);
      }),
  );
  return { run, finish: () => finishers.shift()?.() };
}

describe('ResyncScheduler', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('debounces scheduled requests from the first one', async () => {
    jest.useFakeTimers();
    const run = jest.fn(async () => undefined);
    const scheduler = new ResyncScheduler(run, 100, () => undefined);
    scheduler.schedule();
    jest.advanceTimersByTime(60);
    scheduler.schedule(); // joins the pending one, does not push it back
    scheduler.schedule();
    expect(run).not.toHaveBeenCalled();
    jest.advanceTimersByTime(40);
    expect(run).toHaveBeenCalledTimes(1);
    expect(scheduler.pending).toBe(false);
    await scheduler.idle();
    jest.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('runs once more after the running one when asked meanwhile, shared by all callers', async () => {
    const { run, finish } = controlledRun();
    const scheduler = new ResyncScheduler(run, 0, () => undefined);
    const first = scheduler.now();
    const second = scheduler.now();
    const third = scheduler.now();
    expect(second).toBe(third);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await first;
    await new Promise(setImmediate);
    expect(run).toHaveBeenCalledTimes(2);
    finish();
    await Promise.all([second, third]);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('now() takes over a scheduled request, and cancel() drops one', () => {
    jest.useFakeTimers();
    const run = jest.fn(async () => undefined);
    const scheduler = new ResyncScheduler(run, 100, () => undefined);
    scheduler.schedule();
    void scheduler.now();
    jest.advanceTimersByTime(200);
    expect(run).toHaveBeenCalledTimes(1);
    scheduler.schedule();
    scheduler.cancel();
    jest.advanceTimersByTime(200);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('reports errors of scheduled runs and keeps working', async () => {
    jest.useFakeTimers();
    const errors: unknown[] = [];
    const run = jest.fn().mockRejectedValueOnce(new Error('redis down')).mockResolvedValue(undefined);
    const scheduler = new ResyncScheduler(run, 10, (err) => errors.push(err));
    scheduler.schedule();
    await jest.advanceTimersByTimeAsync(10);
    await scheduler.idle();
    expect(errors).toEqual([new Error('redis down')]);
    await expect(scheduler.now()).resolves.toBeUndefined();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('tries a failed scheduled re-read again, waiting twice as long each time (at most 5 s), until it works', async () => {
    jest.useFakeTimers();
    const retries: (number | undefined)[] = [];
    const run = jest
      .fn()
      .mockRejectedValueOnce(new Error('Connection is closed'))
      .mockRejectedValueOnce(new Error('Connection is closed'))
      .mockRejectedValueOnce(new Error('Connection is closed'))
      .mockResolvedValue(undefined);
    const scheduler = new ResyncScheduler(run, 1000, (_err, retryInMs) => retries.push(retryInMs));
    scheduler.schedule();
    await jest.advanceTimersByTimeAsync(1000);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1999);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(4000);
    expect(run).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(4);
    expect(retries).toEqual([2000, 4000, 5000]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(4); // it worked: no more
  });

  it('does not try again once inactive (the monitor stopped)', async () => {
    jest.useFakeTimers();
    const retries: (number | undefined)[] = [];
    const run = jest.fn().mockRejectedValue(new Error('Connection is closed'));
    const scheduler = new ResyncScheduler(run, 10, (_err, retryInMs) => retries.push(retryInMs), () => false);
    scheduler.schedule();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(retries).toEqual([undefined]);
  });
});
