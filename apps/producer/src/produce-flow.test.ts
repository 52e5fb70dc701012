import { demoFlow, describeFlowSummary } from './produce-flow';

describe('the demo flow', () => {
  it('is a chord over COUNT chains of 3 sleep steps, the callback named total', () => {
    const flow = demoFlow({ count: 2, minMs: 10, maxMs: 10, failRate: 0, maxAttempts: 3, retryDelayMs: 100 });
    expect(flow).toEqual({
      kind: 'chain',
      nodes: [
        {
          kind: 'group',
          nodes: [1, 2].map((c) => ({
            kind: 'chain',
            nodes: [1, 2, 3].map((s) => ({ name: `c${c}s${s}`, type: 'sleep', payload: { ms: 10 }, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 100 } })),
          })),
        },
        { name: 'total', type: 'sleep', payload: { ms: 0 }, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 100 } },
      ],
    });
  });

  it('summary line', () => {
    expect(describeFlowSummary({ flow: 'f1', queue: 'q', status: 'FlowFailed', total: 7, counts: { Done: 4, Dead: 1, Cancelled: 2 }, wallMs: 1234 })).toBe(
      'flow f1 FlowFailed: 4/7 steps Done, 1 Dead, 2 Cancelled; wall time 1.23 s',
    );
    expect(describeFlowSummary({ flow: 'f1', queue: 'q', status: 'FlowDone', total: 7, counts: { Done: 7 }, totalSleptMs: 900, wallMs: 1000 })).toBe(
      'flow f1 FlowDone: 7/7 steps Done; slept 900 ms in all; wall time 1.00 s',
    );
  });
});
