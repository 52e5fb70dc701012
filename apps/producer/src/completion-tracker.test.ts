import { CompletionTracker } from './completion-tracker';

describe('CompletionTracker', () => {
  it('counts the first final status of each task of the run, once', () => {
    const t = new CompletionTracker('run_', 10);
    expect(t.mark('run_1', 'InProgress')).toBe(false);
    expect(t.mark('run_1', 'Done')).toBe(true);
    expect(t.mark('run_1', 'Done')).toBe(false); // the same record again (a resync, a re-read)
    expect(t.mark('run_2', 'Dead')).toBe(true);
    expect(t.mark('run_10', 'Cancelled')).toBe(true);
    expect(t.pending).toBe(7);
    expect(t.counts()).toEqual({ Done: 1, Failed: 0, Dead: 1, Cancelled: 1 });
  });

  it.each(['other_1', 'run_0', 'run_11', 'run_01', 'run_1x', 'run_', 'run_99999999999999999999'])('ignores %s, which is no task of the run', (id) => {
    const t = new CompletionTracker('run_', 10);
    expect(t.mark(id, 'Done')).toBe(false);
    expect(t.pending).toBe(10);
  });

  it('counts a forgotten task once, apart from the final statuses, and only if no final status was seen', () => {
    const t = new CompletionTracker('r', 3);
    t.mark('r1', 'Done');
    expect(t.markForgotten('r1')).toBe(false);
    expect(t.markForgotten('r2')).toBe(true);
    expect(t.markForgotten('r2')).toBe(false);
    expect(t.mark('r2', 'Done')).toBe(false);
    expect(t.markForgotten('x2')).toBe(false);
    expect(t.pending).toBe(1);
    expect(t.counts()).toEqual({ Done: 1, Failed: 0, Dead: 0, Cancelled: 0, Forgotten: 1 });
    expect(new CompletionTracker('r', 1).counts()).not.toHaveProperty('Forgotten');
  });

  it('lists the pending ids in chunks, made as they are asked for', () => {
    const t = new CompletionTracker('r', 7);
    for (const id of ['r2', 'r3', 'r7']) t.mark(id, 'Done');
    expect([...t.pendingIds(3)]).toEqual([['r1', 'r4', 'r5'], ['r6']]);
  });

  it('keeps one bit per task: ten million tasks fit in 1.25 MB', () => {
    const t = new CompletionTracker('big_', 10_000_000);
    expect(t.mark('big_10000000', 'Done')).toBe(true);
    expect(t.pending).toBe(9_999_999);
  });

  it('tells listeners when a task turns final', () => {
    const t = new CompletionTracker('r', 2);
    const seen: number[] = [];
    const off = t.onChange(() => seen.push(t.pending));
    t.mark('r1', 'Done');
    off();
    t.mark('r2', 'Done');
    expect(seen).toEqual([1]);
  });
});
