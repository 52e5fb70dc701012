import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import type { ProgressItem } from '@taskq/queue';
import { ProgressBatcher, type BatcherTimers } from './progress-batcher';

/** A clock that moves only when told, and its timers (fired by advance()). */
class ManualTimers implements BatcherTimers {
  private t = 1000;
  private timers: { at: number; callback: () => void; id: number }[] = [];
  private ids = 0;

  now(): number {
    return this.t;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves the clock by `ms`, firing each timer due on the way (and letting promise callbacks run after each). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.callback();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function setup(intervalMs = 500, reply?: (items: readonly ProgressItem[]) => Promise<boolean[]>) {
  const timers = new ManualTimers();
  const sent: { at: number; items: string[] }[] = [];
  const send = (items: readonly ProgressItem[]): Promise<boolean[]> => {
    sent.push({ at: timers.now(), items: items.map((i) => `${i.id}=${i.body}`) });
    return reply ? reply(items) : Promise.resolve(items.map(() => true));
  };
  const warnings: string[] = [];
  const warn: LogFn = (a: object | string, msg?: string) => {
    warnings.push(typeof a === 'string' ? a : (msg ?? ''));
  };
  const logger: Logger = { ...silentLogger, warn };
  const batcher = new ProgressBatcher(send, intervalMs, logger, timers);
  const report = (id: string, pct: number): void => batcher.report({ id, token: `${id}-token`, body: `{"pct":${pct}}` });
  return { timers, sent, batcher, report, warnings };
}

describe('ProgressBatcher', () => {
  it('sends the first report at once (next timer turn), then at most one flush per interval with the latest value of each task', async () => {
    const { timers, sent, report } = setup(500);
    report('a', 1);
    expect(sent).toEqual([]); // not synchronously: reports of the same turn go together
    await timers.advance(0);
    expect(sent).toEqual([{ at: 1000, items: ['a={"pct":1}'] }]);
    // a tight loop: 1000 reports in 100 ms of clock
    for (let i = 2; i <= 1001; i++) {
      report('a', i % 100);
      if (i % 10 === 0) await timers.advance(1);
    }
    report('a', 77);
    await timers.advance(399); // until 1500: still within the interval of the first flush
    expect(sent).toHaveLength(1);
    await timers.advance(1); // 1500
    expect(sent).toEqual([
      { at: 1000, items: ['a={"pct":1}'] },
      { at: 1500, items: ['a={"pct":77}'] }, // the latest value only
    ]);
    await timers.advance(5000);
    expect(sent).toHaveLength(2); // nothing new: no flush, no timer left
    expect(timers.pending).toBe(0);
    report('a', 50); // after a quiet spell: at once again
    await timers.advance(0);
    expect(sent[2]).toEqual({ at: 6500, items: ['a={"pct":50}'] });
  });

  it('batches every task with news into one call per flush; each task at most once per interval', async () => {
    const { timers, sent, report } = setup(500);
    report('a', 10);
    report('b', 10);
    await timers.advance(0);
    expect(sent).toEqual([{ at: 1000, items: ['a={"pct":10}', 'b={"pct":10}'] }]);
    await timers.advance(100);
    report('c', 5);
    await timers.advance(100);
    report('a', 20);
    report('c', 6);
    await timers.advance(300); // 1500
    expect(sent[1]).toEqual({ at: 1500, items: ['a={"pct":20}', 'c={"pct":6}'] });
    // per task, writes are never closer than the interval
    for (const id of ['a', 'b', 'c']) {
      const times = sent.filter((s) => s.items.some((i) => i.startsWith(`${id}=`))).map((s) => s.at);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(500);
    }
  });

  it('forgets an ended task: its value not sent yet is dropped', async () => {
    const { timers, sent, report, batcher } = setup(500);
    report('a', 10);
    await timers.advance(0);
    report('a', 90);
    report('b', 1);
    batcher.forget('a');
    expect(batcher.waiting).toBe(1);
    await timers.advance(500);
    expect(sent.map((s) => s.items)).toEqual([['a={"pct":10}'], ['b={"pct":1}']]);
  });

  it('keeps one flush in flight: a slow Redis gets the latest values once it answered, the interval still kept', async () => {
    let answer: (() => void) | undefined;
    const { timers, sent, report } = setup(500, (items) => new Promise((resolve) => (answer = () => resolve(items.map(() => true)))));
    report('a', 1);
    await timers.advance(0);
    report('a', 2);
    report('a', 3);
    await timers.advance(2000); // the first call has not come back
    expect(sent).toHaveLength(1);
    answer!();
    await timers.advance(0);
    expect(sent.map((s) => s.items)).toEqual([['a={"pct":1}'], ['a={"pct":3}']]);
  });

  it('drops what Redis did not take, logging the first failure in a row; refusals are no failure', async () => {
    let fail = true;
    const { timers, sent, report, warnings } = setup(100, (items) => (fail ? Promise.reject(new Error('OOM command not allowed')) : Promise.resolve(items.map((_, i) => i > 0))));
    for (let i = 0; i < 3; i++) {
      report('a', i);
      await timers.advance(100);
    }
    expect(sent).toHaveLength(3);
    expect(warnings).toEqual(['progress update failed (1 in a row); dropped the progress of 1 task(s): Error: OOM command not allowed']);
    fail = false;
    report('a', 7);
    report('b', 7);
    await timers.advance(100);
    expect(sent).toHaveLength(4);
    await timers.advance(1000);
    expect(sent).toHaveLength(4); // nothing is re-sent
    expect(warnings).toHaveLength(1);
  });

  it('stop(): nothing more is sent, the timer is cleared, a flush in flight is waited for', async () => {
    let answer: (() => void) | undefined;
    const { timers, sent, report, batcher } = setup(500, (items) => new Promise((resolve) => (answer = () => resolve(items.map(() => true)))));
    report('a', 1);
    await timers.advance(0);
    report('a', 2);
    let stopped = false;
    const stopping = batcher.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    answer!();
    await stopping;
    report('a', 3);
    await timers.advance(5000);
    expect(sent).toHaveLength(1);
    expect(timers.pending).toBe(0);
  });
});
