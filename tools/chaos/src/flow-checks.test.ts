import { checkFlows, flowDetailLines, flowFailures, flowsLine, type FlowCheckInput, type ObservedFlow } from './flow-checks';
import { makeFlowPlan, type FlowDesign, type PlannedFlow } from './flow-plan';

type Rec = { status: string; at: number; seq: number; reason?: string };

/** The planned flow of a design (one of the first 12: each design once or twice). */
function flowOf(design: FlowDesign): PlannedFlow {
  const flow = makeFlowPlan({ flows: 12, seed: 7, queues: ['q1', 'q2'], maxMs: 10 }).find((f) => f.design === design);
  if (!flow) throw new Error(design);
  return flow;
}

/**
 * A run where every flow ended as designed: each released step fetched at
 * 1000 + i, ended at 2000 + i, the flow ended at 5000; the failFast ones'
 * steps beside the failing one Done; results with the expected sums.
 */
function cleanRun(flows: readonly PlannedFlow[]): FlowCheckInput & {
  states: Map<string, ObservedFlow | undefined>;
  records: Map<string, { status: string; at: number; reason?: string } | undefined>;
  results: Map<string, unknown>;
  history: Map<string, Rec[]>;
  starts: Map<string, number>;
  doneLines: Map<string, number>;
} {
  const input = {
    flows,
    states: new Map<string, ObservedFlow | undefined>(),
    records: new Map<string, { status: string; at: number; reason?: string } | undefined>(),
    results: new Map<string, unknown>(),
    history: new Map<string, Rec[]>(),
    starts: new Map<string, number>(),
    doneLines: new Map<string, number>(),
  };
  let i = 0;
  for (const flow of flows) {
    const steps = flow.steps.map((s) => {
      const status = s.allowed[0];
      const result = status === 'Done' ? { sleptMs: 1, sum: s.sum } : undefined;
      if (!s.neverEnqueued) {
        i++;
        input.records.set(s.taskId, { status, at: 2000 + i });
        input.history.set(s.taskId, [
          { status: 'Queued', at: 900 + i, seq: 3 * i },
          { status: 'InProgress', at: 1000 + i, seq: 3 * i + 1 },
          { status, at: 2000 + i, seq: 3 * i + 2 },
        ]);
        input.starts.set(s.taskId, 1);
        if (status === 'Done') {
          input.doneLines.set(s.taskId, 1);
          input.results.set(s.taskId, result);
        }
      }
      return { name: s.name, status, ...(result ? { result } : {}) };
    });
    input.states.set(flow.id, { status: flow.expectedStatus, endedAt: 5000, steps });
  }
  return input as never;
}

const ALL: FlowDesign[] = ['chain', 'chord', 'diamond', 'ff-chain', 'ff-chord', 'ff-diamond', 'cont-chain', 'cont-chord', 'cont-diamond'];

describe('checkFlows', () => {
  it('passes a run where every flow ended as designed', () => {
    const report = checkFlows(cleanRun(ALL.map(flowOf)));
    expect(report).toMatchObject({ flows: 9, notEnded: 0, unexpected: 0, startedAfterEnd: 0, doneTwice: 0, incompleteResults: 0, failedByKills: 0 });
    expect(report.byStatus).toEqual({ FlowDone: 3, FlowFailed: 6 });
    expect(flowFailures(report)).toEqual([]);
    expect(flowsLine(report)).toMatch(/^chaos flows: 9 flows \(1 chain, 1 chord, 1 diamond, .*\), 36 steps, FlowDone 3, FlowFailed 6; 0 not ended, 0 unexpected, 0 started after end, 0 done twice, 0 incomplete results; 0 failed by kills$/);
    expect(flowDetailLines(report)).toEqual([]);
  });

  it('fails a flow that did not end, and one that is not in Redis', () => {
    const flows = [flowOf('chain'), flowOf('chord')];
    const run = cleanRun(flows);
    const chain = run.states.get(flows[0].id) as ObservedFlow;
    run.states.set(flows[0].id, { status: 'FlowRunning', steps: chain.steps.map((s) => (s.name === 'c' ? { name: 'c', status: 'Released' } : s)) });
    run.states.set(flows[1].id, undefined);
    const report = checkFlows(run);
    expect(report.notEnded).toBe(2);
    expect(report.examples.notEnded).toEqual([`${flows[0].id}: FlowRunning (c Released)`, `${flows[1].id}: no flow in Redis`]);
    expect(flowFailures(report)).toEqual(['2 flows not ended']);
  });

  it('fails a flow that ended otherwise than designed: FlowDone where a step must fail, a never-released step with a task', () => {
    const ff = flowOf('ff-chain');
    const run = cleanRun([ff, flowOf('chord')]);
    const state = run.states.get(ff.id) as ObservedFlow;
    run.states.set(ff.id, { ...state, status: 'FlowDone' });
    run.records.set(`${ff.id}:c`, { status: 'Cancelled', at: 1500 });
    const report = checkFlows(run);
    expect(report.unexpected).toBe(1);
    expect(report.examples.unexpected[0]).toBe(`${ff.id} (ff-chain): flow FlowDone, expected FlowFailed; c has a task (Cancelled) though its flow never released it`);
  });

  it('fails a step whose flow status differs from its task status, and a continue flow whose callback was Cancelled', () => {
    const cont = flowOf('cont-chord');
    const run = cleanRun([cont]);
    const state = run.states.get(cont.id) as ObservedFlow;
    run.states.set(cont.id, { ...state, steps: state.steps.map((s) => (s.name === 'cb' ? { name: 'cb', status: 'Cancelled' } : s)) });
    const report = checkFlows(run);
    expect(report.examples.unexpected[0]).toBe(`${cont.id} (cont-chord): cb Cancelled, expected Done; cb Cancelled in the flow, Done in its queue`);
  });

  it('fails a step fetched after its flow ended (Redis times), a task recorded after it, and a never-released step that ran', () => {
    const [chain, chord, ff] = [flowOf('chain'), flowOf('chord'), flowOf('ff-chord')];
    const run = cleanRun([chain, chord, ff]);
    (run.history.get(`${chain.id}:b`) as Rec[]).push({ status: 'InProgress', at: 5001, seq: 9999 });
    run.records.set(`${chord.id}:m3`, { status: 'Done', at: 5200 });
    run.starts.set(`${ff.id}:cb`, 1);
    const report = checkFlows(run);
    expect(report.startedAfterEnd).toBe(3);
    expect(report.examples.startedAfterEnd).toEqual([
      `${chain.id} b: InProgress at 5001, 1 ms after the flow ended (FlowDone)`,
      `${chord.id} m3: task Done at 5200, 200 ms after the flow ended (FlowDone)`,
      `${ff.id} cb: never released by its flow, yet 1 START lines, 0 InProgress records`,
    ]);
    // one at the very time the flow ended is not after it
    const ok = cleanRun([chain]);
    (ok.history.get(`${chain.id}:b`) as Rec[]).push({ status: 'InProgress', at: 5000, seq: 9999 });
    expect(checkFlows(ok).startedAfterEnd).toBe(0);
  });

  it('fails a step completed Done twice: two DONE lines, or two Done records (the same record delivered twice is one)', () => {
    const chord = flowOf('chord');
    const run = cleanRun([chord]);
    run.doneLines.set(`${chord.id}:cb`, 2);
    const m1 = run.history.get(`${chord.id}:m1`) as Rec[];
    m1.push({ status: 'Queued', at: 2100, seq: 500 }, { status: 'InProgress', at: 2200, seq: 501 }, { status: 'Done', at: 2300, seq: 502 });
    const m2 = run.history.get(`${chord.id}:m2`) as Rec[];
    m2.push({ ...m2[m2.length - 1] });
    const report = checkFlows(run);
    expect(report.doneTwice).toBe(2);
    expect(report.examples.doneTwice).toEqual([`${chord.id}:m1: 1 DONE lines, 2 Done records seen`, `${chord.id}:cb: 2 DONE lines, 1 Done records seen`]);
  });

  it('fails a callback whose sum misses an input, a Done step without a result, and a result the queue holds otherwise', () => {
    const [chord, chain, diamond] = [flowOf('chord'), flowOf('chain'), flowOf('diamond')];
    const run = cleanRun([chord, chain, diamond]);
    const cbSum = chord.steps.find((s) => s.name === 'cb')?.sum as number;
    const m4 = chord.steps.find((s) => s.name === 'm4')?.sum as number;
    const set = (flow: PlannedFlow, step: string, result: unknown): void => {
      const state = run.states.get(flow.id) as ObservedFlow;
      run.states.set(flow.id, { ...state, steps: state.steps.map((s) => (s.name === step ? { name: step, status: 'Done', ...(result === undefined ? {} : { result }) } : s)) });
    };
    set(chord, 'cb', { sleptMs: 1, sum: cbSum - m4 });
    set(chain, 'b', undefined);
    run.results.set(`${diamond.id}:join`, { sleptMs: 2, sum: diamond.steps[3].sum });
    const report = checkFlows(run);
    expect(report.incompleteResults).toBe(3);
    expect(report.examples.incompleteResults).toEqual([
      `${chord.id} cb: sum ${cbSum - m4}, expected ${cbSum} (an input missing or counted twice)`,
      `${chain.id} b: Done without a result in the flow`,
      `${diamond.id} join: result {"sleptMs":1,"sum":${diamond.steps[3].sum}} in the flow, {"sleptMs":2,"sum":${diamond.steps[3].sum}} in its queue`,
    ]);
    expect(flowFailures(report)).toEqual(['3 flow step results incomplete']);
  });

  it("excuses a flow failed by a step its workers died under (no DONE line), but not one with a DONE line", () => {
    const [a, b] = [flowOf('chain'), flowOf('chord')];
    const run = cleanRun([a, b]);
    for (const [flow, step] of [
      [a, 'b'],
      [b, 'm1'],
    ] as const) {
      const state = run.states.get(flow.id) as ObservedFlow;
      run.states.set(flow.id, { ...state, status: 'FlowFailed', steps: state.steps.map((s) => (s.name === step ? { name: step, status: 'Dead' } : s)) });
      run.records.set(`${flow.id}:${step}`, { status: 'Dead', at: 2500, reason: 'its worker died while running it 5 times' });
    }
    run.doneLines.delete(`${a.id}:b`); // its attempts were all killed: no DONE line
    run.doneLines.set(`${b.id}:m1`, 1); // this one did succeed once
    const report = checkFlows(run);
    expect(report.failedByKills).toBe(1);
    expect(report.examples.failedByKills[0]).toBe(`${a.id}: step b Dead after its workers died; flow FlowFailed`);
    expect(report.unexpected).toBe(1);
    expect(flowFailures(report)).toEqual(['1 flows ended unexpectedly']);
  });
});
