import { FLOW_CYCLE, makeFlowPlan, MAX_STEPS_PER_FLOW } from './flow-plan';

const plan = (flows = 60, seed = 3) => makeFlowPlan({ flows, seed, queues: ['a', 'b', 'c'], maxMs: 50 });

describe('makeFlowPlan', () => {
  it('cycles through the designs; the same seed gives the same plan', () => {
    const flows = plan();
    expect(flows).toHaveLength(60);
    expect(flows.slice(0, FLOW_CYCLE.length).map((f) => f.design)).toEqual(FLOW_CYCLE);
    expect(flows.filter((f) => f.expectedStatus === 'FlowDone')).toHaveLength(30);
    expect(JSON.stringify(plan())).toBe(JSON.stringify(flows));
    expect(JSON.stringify(plan(60, 4))).not.toBe(JSON.stringify(flows));
    expect(Math.max(...flows.map((f) => f.steps.length))).toBe(MAX_STEPS_PER_FLOW);
    expect(new Set(flows.flatMap((f) => f.steps.map((s) => s.queue)))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('expects the sums the steps add up to: a chain adds up, a callback gets every member, continue skips the failing one', () => {
    const flows = plan(12);
    const value = (id: string, step: string): number => {
      const f = flows.find((x) => x.id === id);
      const spec = JSON.stringify(f?.spec);
      const m = new RegExp(`"name":"${step}"[^}]*"value":(\\d+)`).exec(spec);
      return Number(m?.[1]);
    };
    const sum = (id: string, step: string) => flows.find((f) => f.id === id)?.steps.find((s) => s.name === step)?.sum;
    const chain = flows.find((f) => f.design === 'chain')?.id as string;
    expect(sum(chain, 'c')).toBe(value(chain, 'a') + value(chain, 'b') + value(chain, 'c'));
    const chord = flows.find((f) => f.design === 'chord')?.id as string;
    expect(sum(chord, 'cb')).toBe(['m1', 'm2', 'm3', 'm4', 'cb'].reduce((acc, s) => acc + value(chord, s), 0));
    const diamond = flows.find((f) => f.design === 'diamond')?.id as string;
    expect(sum(diamond, 'join')).toBe(value(diamond, 'join') + value(diamond, 'left') + value(diamond, 'right') + 2 * value(diamond, 'start'));
    const cont = flows.find((f) => f.design === 'cont-chord')?.id as string;
    expect(sum(cont, 'cb')).toBe(['m1', 'm3', 'm4', 'cb'].reduce((acc, s) => acc + value(cont, s), 0));
    const contChain = flows.find((f) => f.design === 'cont-chain')?.id as string;
    expect(sum(contChain, 'c')).toBe(value(contChain, 'c'));
  });

  it('failFast: the failing step Dead, what follows it never released, what is beside it Done or Cancelled; continue: the rest Done', () => {
    const flows = plan(12);
    const steps = (design: string) =>
      Object.fromEntries((flows.find((f) => f.design === design)?.steps ?? []).map((s) => [s.name, [s.allowed.join('|'), s.neverEnqueued, s.failsAlways]]));
    expect(steps('ff-diamond')).toEqual({
      start: ['Done', false, false],
      left: ['Dead', false, true],
      right: ['Done|Cancelled', false, false],
      join: ['Cancelled', true, false],
    });
    expect(steps('ff-chain')).toEqual({ a: ['Done', false, false], b: ['Dead', false, true], c: ['Cancelled', true, false] });
    expect(steps('cont-chord')).toMatchObject({ m2: ['Dead', false, true], cb: ['Done', false, false], m1: ['Done', false, false] });
    expect(flows.find((f) => f.design === 'cont-chord')).toMatchObject({ policy: 'continue', expectedStatus: 'FlowFailed' });
    // the steps planned to succeed fail 0, 1 or 2 attempts (3 allowed); the failing ones every attempt
    const fails = plan().flatMap((f) => f.steps.map((s) => [s.failsAlways, /"failAttempts":(\d+)/.exec(JSON.stringify(f.spec).split(`"name":"${s.name}"`)[1] ?? '')?.[1]]));
    expect(new Set(fails.filter(([always]) => !always).map(([, n]) => n))).toEqual(new Set(['0', '1', '2']));
    expect(new Set(fails.filter(([always]) => always).map(([, n]) => n))).toEqual(new Set(['99']));
  });
});
