import type { BenchPayload } from '../payload';
import type { Producer } from '../systems/producer';
import { steadyStream } from './latency';

function recorder(fail?: number): Producer & { sent: BenchPayload[] } {
  const sent: BenchPayload[] = [];
  return {
    system: 'taskq',
    sent,
    enqueueBulk: async () => undefined,
    enqueueOne: async (p) => {
      sent.push(p);
      if (p.i === fail) throw new Error(`enqueue ${p.i} failed`);
    },
    queued: async () => 0,
    progress: async () => ({ remaining: 0, failed: 0 }),
    close: async () => undefined,
  };
}

describe('steadyStream', () => {
  it('sends every task once, one at a time, spread over the duration, each stamped with its send time', async () => {
    const producer = recorder();
    const t0 = performance.timeOrigin + performance.now();
    const streamMs = await steadyStream(producer, 50, 200);
    expect(streamMs).toBeGreaterThanOrEqual(190);
    const sent = producer.sent;
    expect(sent.map((p) => p.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const last = sent[49];
    const first = sent[0];
    // task k is due at k/50 of 200 ms: the last one no earlier than 196 ms after the first
    expect(last.t - first.t).toBeGreaterThanOrEqual(190);
    expect(first.t).toBeGreaterThanOrEqual(t0);
    for (let k = 1; k < sent.length; k++) expect(sent[k].t).toBeGreaterThanOrEqual(sent[k - 1].t);
  });

  it('reports a failed enqueue after the stream, without an unhandled rejection', async () => {
    await expect(steadyStream(recorder(3), 10, 20)).rejects.toThrow('enqueue 3 failed');
  });
});
