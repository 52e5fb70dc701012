import { chain, chord, dag, group, type FlowNode, type FlowPolicy, type FlowStatus, type FlowStep } from '@taskq/queue';
import { createPrng, type Prng } from './prng';
import { MAX_ATTEMPTS, RETRY_DELAY_MS } from './plan';

/**
 * The flows of a chaos run and what each must end as. Every step is a
 * built-in `sleep` task with a `value`: its result is `{ sleptMs, sum }`,
 * `sum` being its value plus the sums of its inputs, so the expected sum of
 * each step follows from the design and tells whether every input arrived.
 *
 * Designs, in a fixed cycle (`--flows 60`: 5 of each of the 12):
 * - `chain`: a -> b -> c; `chord`: group(m1..m4) -> cb; `diamond`: dag
 *   start -> left, right -> join. Every step succeeds (some after 1 or 2
 *   failed attempts): FlowDone, every step Done.
 * - `ff-chain`, `ff-chord`, `ff-diamond` (failFast) with one step that always
 *   fails (b; m2; left): FlowFailed, that step Dead, the steps after it
 *   Cancelled without ever being enqueued (c; cb; join), the ones before it
 *   Done, those beside it Done or Cancelled (running or queued when it failed).
 * - `cont-chain`, `cont-chord`, `cont-diamond` (continue) with the same kind
 *   of failing step (b; m2; right): FlowFailed, that step Dead, every other
 *   step Done, the one after it with the sum of its Done inputs only.
 */
export type FlowDesign = 'chain' | 'chord' | 'diamond' | 'ff-chain' | 'ff-chord' | 'ff-diamond' | 'cont-chain' | 'cont-chord' | 'cont-diamond';

/** The designs in the order flows cycle through them: twice as many succeeding chains and chords. */
export const FLOW_CYCLE: readonly FlowDesign[] = [
  'chain',
  'chord',
  'diamond',
  'chain',
  'chord',
  'chain',
  'ff-chain',
  'ff-chord',
  'ff-diamond',
  'cont-chain',
  'cont-chord',
  'cont-diamond',
];

/** What a step may end as: its flow's view of it. `Cancelled` steps marked `neverEnqueued` must have no task at all. */
export interface StepExpectation {
  readonly name: string;
  readonly taskId: string;
  readonly queue: string;
  /** The statuses it may end with (flows.get's step status). */
  readonly allowed: readonly ('Done' | 'Dead' | 'Cancelled')[];
  /** Its flow never released it: Cancelled with no task in its queue, no START anywhere. */
  readonly neverEnqueued: boolean;
  /** Its result's `sum` if it ends Done. */
  readonly sum: number;
  /** The step is planned to fail every attempt. */
  readonly failsAlways: boolean;
}

export interface PlannedFlow {
  readonly id: string;
  readonly design: FlowDesign;
  readonly policy: FlowPolicy;
  readonly expectedStatus: Extract<FlowStatus, 'FlowDone' | 'FlowFailed'>;
  readonly spec: FlowNode;
  readonly steps: readonly StepExpectation[];
}

/** failAttempts of a step that always fails (above MAX_ATTEMPTS). */
const ALWAYS = 99;
/** The priority of flow steps: above most of the backlog, so flows run while the workers are being killed. */
export const FLOW_STEP_PRIORITY = 9;

interface RawStep {
  readonly name: string;
  readonly deps: readonly string[];
  readonly fails: boolean;
}

/** Each design's steps (what each waits for) and its failing step. */
const SHAPES: Readonly<Record<'chain' | 'chord' | 'diamond', (failing?: string) => RawStep[]>> = {
  chain: (f) => [
    { name: 'a', deps: [], fails: f === 'a' },
    { name: 'b', deps: ['a'], fails: f === 'b' },
    { name: 'c', deps: ['b'], fails: f === 'c' },
  ],
  chord: (f) => [
    ...['m1', 'm2', 'm3', 'm4'].map((name) => ({ name, deps: [], fails: f === name })),
    { name: 'cb', deps: ['m1', 'm2', 'm3', 'm4'], fails: false },
  ],
  diamond: (f) => [
    { name: 'start', deps: [], fails: false },
    { name: 'left', deps: ['start'], fails: f === 'left' },
    { name: 'right', deps: ['start'], fails: f === 'right' },
    { name: 'join', deps: ['left', 'right'], fails: false },
  ],
};

const DESIGNS: Readonly<Record<FlowDesign, { shape: keyof typeof SHAPES; policy: FlowPolicy; failing?: string }>> = {
  chain: { shape: 'chain', policy: 'failFast' },
  chord: { shape: 'chord', policy: 'failFast' },
  diamond: { shape: 'diamond', policy: 'failFast' },
  'ff-chain': { shape: 'chain', policy: 'failFast', failing: 'b' },
  'ff-chord': { shape: 'chord', policy: 'failFast', failing: 'm2' },
  'ff-diamond': { shape: 'diamond', policy: 'failFast', failing: 'left' },
  'cont-chain': { shape: 'chain', policy: 'continue', failing: 'b' },
  'cont-chord': { shape: 'chord', policy: 'continue', failing: 'm2' },
  'cont-diamond': { shape: 'diamond', policy: 'continue', failing: 'right' },
};

export interface FlowPlanOptions {
  readonly flows: number;
  readonly seed: number;
  /** The queues the steps are spread over. */
  readonly queues: readonly string[];
  /** Longest step duration, ms. */
  readonly maxMs: number;
}

/** Steps before `name` (transitively): they all ended Done before it was released. */
function upstream(steps: readonly RawStep[], name: string): Set<string> {
  const out = new Set<string>();
  const visit = (n: string): void => {
    for (const d of steps.find((s) => s.name === n)?.deps ?? []) {
      if (!out.has(d)) {
        out.add(d);
        visit(d);
      }
    }
  };
  visit(name);
  return out;
}

/** Steps after `name` (transitively). */
function downstream(steps: readonly RawStep[], name: string): Set<string> {
  const out = new Set<string>();
  const visit = (n: string): void => {
    for (const s of steps) {
      if (s.deps.includes(n) && !out.has(s.name)) {
        out.add(s.name);
        visit(s.name);
      }
    }
  };
  visit(name);
  return out;
}

function planFlow(index: number, design: FlowDesign, prng: Prng, options: FlowPlanOptions): PlannedFlow {
  const { shape, policy, failing } = DESIGNS[design];
  const raw = SHAPES[shape](failing);
  const id = `f${String(index + 1).padStart(3, '0')}-${design}`;
  const after = failing === undefined ? new Set<string>() : downstream(raw, failing);
  const before = failing === undefined ? new Set<string>() : upstream(raw, failing);
  const values = new Map<string, number>();
  const inputs: FlowStep[] = raw.map((s) => {
    const value = prng.int(1, 1000);
    values.set(s.name, value);
    // the steps that succeed: most at once, some after 1 or 2 failed attempts (MAX_ATTEMPTS is 3)
    const roll = prng.next();
    const failAttempts = s.fails ? ALWAYS : roll < 0.15 ? 1 : roll < 0.25 ? 2 : 0;
    return {
      name: s.name,
      type: 'sleep',
      queue: options.queues[prng.int(0, options.queues.length - 1)],
      payload: { ms: prng.int(0, options.maxMs), failAttempts, value },
      maxAttempts: MAX_ATTEMPTS,
      backoff: { type: 'fixed', delayMs: RETRY_DELAY_MS },
      priority: FLOW_STEP_PRIORITY,
    };
  });
  // sums: a step's value plus the sums of its deps that end Done (the failing step and, under failFast, nothing after it)
  const sums = new Map<string, number>();
  for (const s of raw) {
    const fromDeps = s.deps.filter((d) => d !== failing).reduce((acc, d) => acc + (sums.get(d) ?? 0), 0);
    sums.set(s.name, (values.get(s.name) ?? 0) + fromDeps);
  }
  const steps = raw.map((s, i): StepExpectation => {
    const base = { name: s.name, taskId: `${id}:${s.name}`, queue: inputs[i].queue as string, sum: sums.get(s.name) ?? 0, failsAlways: s.fails };
    if (s.fails) return { ...base, allowed: ['Dead'], neverEnqueued: false };
    if (policy === 'failFast' && failing !== undefined) {
      // after the failing step: never released; before it: Done (it was released after them); beside it: may finish
      // before the failure, or be cancelled
      if (after.has(s.name)) return { ...base, allowed: ['Cancelled'], neverEnqueued: true };
      if (before.has(s.name)) return { ...base, allowed: ['Done'], neverEnqueued: false };
      return { ...base, allowed: ['Done', 'Cancelled'], neverEnqueued: false };
    }
    return { ...base, allowed: ['Done'], neverEnqueued: false };
  });
  const byName = new Map(inputs.map((s) => [s.name as string, s]));
  const spec: FlowNode =
    shape === 'chain'
      ? chain(...raw.map((s) => byName.get(s.name) as FlowStep))
      : shape === 'chord'
        ? chord(group(...raw.filter((s) => s.name !== 'cb').map((s) => byName.get(s.name) as FlowStep)), byName.get('cb') as FlowStep)
        : dag(...raw.map((s) => ({ ...(byName.get(s.name) as FlowStep), ...(s.deps.length ? { dependsOn: s.deps } : {}) })));
  return { id, design, policy, expectedStatus: failing === undefined ? 'FlowDone' : 'FlowFailed', spec, steps };
}

/** The flows of a run, from the seed (a generator of their own: the task plan of a seed stays what it was). */
export function makeFlowPlan(options: FlowPlanOptions): PlannedFlow[] {
  if (options.queues.length === 0) throw new RangeError('a flow plan needs at least one queue');
  const prng = createPrng(options.seed ^ 0x6a09e667);
  return Array.from({ length: options.flows }, (_, i) => planFlow(i, FLOW_CYCLE[i % FLOW_CYCLE.length], prng, options));
}

/** Most steps a design has (a chord's 4 members and callback): `--flows` times this bounds the steps. */
export const MAX_STEPS_PER_FLOW = 5;
