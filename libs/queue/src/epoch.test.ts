import { EpochWatch, epochTime } from './epoch';

describe('EpochWatch', () => {
  it('adopts the first epoch it sees, then reports nothing while Redis keeps it and the seq counter only grows', () => {
    const w = new EpochWatch('q');
    expect(w.check({ epoch: undefined, seq: 0 })).toBeUndefined(); // a queue nobody used yet
    expect(w.current).toBeUndefined();
    expect(w.see('1796351881812120')).toBeUndefined();
    expect(w.current).toBe('1796351881812120');
    w.seeSeq(40);
    expect(w.check({ epoch: '1796351881812120', seq: 40 })).toBeUndefined();
    expect(w.check({ epoch: '1796351881812120', seq: 90 })).toBeUndefined();
  });

  it('reports an epoch that changed, or is gone, once, then follows the new data', () => {
    const w = new EpochWatch('q');
    w.see('1796351881812120');
    const gone = w.check({ epoch: undefined, seq: 0 });
    expect(gone).toEqual({
      queue: 'q',
      before: '1796351881812120',
      after: undefined,
      reason:
        "Redis lost queue q's data: its data since 2026-12-04T02:38:01.812Z (epoch 1796351881812120) is gone — the server restarted without persistence, was flushed, or failed over to a replica that did not have the data",
    });
    expect(w.current).toBeUndefined();
    expect(w.see('1796351883870938')).toBeUndefined(); // the new data's epoch, first seen: adopted
    const w2 = new EpochWatch('q');
    w2.see('1796351881812120');
    const changed = w2.see('1796351883870938');
    expect(changed?.after).toBe('1796351883870938');
    expect(changed?.reason).toContain("is gone; Redis has the queue's data since 2026-12-04T02:38:03.870Z (epoch 1796351883870938) — ");
    expect(w2.see('1796351883870938')).toBeUndefined();
  });

  it('reports a seq counter below a seq seen under the same epoch (an older snapshot), once', () => {
    const w = new EpochWatch('q');
    w.check({ epoch: 'e', seq: 10 });
    w.seeSeq(25);
    w.seeSeq(3); // lower seqs seen later change nothing
    const back = w.check({ epoch: 'e', seq: 20 });
    expect(back).toEqual({
      queue: 'q',
      before: 'e',
      after: 'e',
      reason: "Redis lost queue q's latest data: its seq counter is at 20, below 25 seen before (the server restarted from an older snapshot, or failed over to a replica that was behind)",
    });
    expect(w.check({ epoch: 'e', seq: 20 })).toBeUndefined();
  });

  it('holds only the seqs seen before a read against the counter it returned (a record may overtake the reply)', () => {
    const w = new EpochWatch('q');
    w.check({ epoch: 'e', seq: 1 });
    // the read is sent having seen seq 1; a record of seq 2 arrives before its reply, which says 1
    const seenBefore = w.seen;
    w.seeSeq(2);
    expect(w.check({ epoch: 'e', seq: 1 }, seenBefore)).toBeUndefined();
    expect(w.seen).toBe(2);
    // without seenBefore the same reply reads as a loss (the Monitor's race in CI, 2026-12-05)
    const w2 = new EpochWatch('q');
    w2.check({ epoch: 'e', seq: 1 });
    w2.seeSeq(2);
    expect(w2.check({ epoch: 'e', seq: 1 })?.reason).toContain('its seq counter is at 1, below 2 seen before');
    // a counter below what was seen before the read is still a loss
    expect(w.check({ epoch: 'e', seq: 1 }, w.seen)?.reason).toContain('its seq counter is at 1, below 2 seen before');
  });

  it('does not hold seqs seen before its first epoch against it (they may be of lost data)', () => {
    const w = new EpochWatch('q');
    w.seeSeq(500);
    expect(w.check({ epoch: 'e2', seq: 3 })).toBeUndefined();
    expect(w.check({ epoch: 'e2', seq: 4 })).toBeUndefined();
  });
});

describe('epochTime', () => {
  it('shows an epoch (µs) as an ISO time, anything else as it is', () => {
    expect(epochTime('1796351881812120')).toBe('2026-12-04T02:38:01.812Z');
    expect(epochTime('not-a-time')).toBe('not-a-time');
  });
});
