import type { Logger } from '@taskq/recorder';
import { chain, chord, group, type FlowPolicy, type FlowState, type Flows, type FlowStep } from '@taskq/queue';
import type { Monitor } from '@taskq/monitor';
import { WaitTimeoutError } from './wait-timeout-error';
import type { SleepTaskOptions } from './sleep-tasks';

/** Steps of each chain of the demo flow. */
export const CHAIN_STEPS = 3;

export interface ProduceFlowOptions extends Omit<SleepTaskOptions, 'idPrefix'> {
  /** The flow's id. */
  readonly flowId: string;
  readonly policy: FlowPolicy;
  readonly wait: boolean;
  /** Give up waiting after this many ms (0: no limit). */
  readonly timeoutMs: number;
}

/** What a flow run ends with. */
export interface FlowSummary {
  readonly flow: string;
  readonly queue: string;
  readonly status: string;
  readonly total: number;
  readonly counts: Record<string, number>;
  /** The callback's `totalMs`: the sleep of every step of the flow, added up along it. */
  readonly totalSleptMs?: number;
  readonly wallMs: number;
}

/**
 * The demo flow: `count` chains of CHAIN_STEPS sleep tasks side by side, and
 * a chord callback (`total`) that runs once every chain is Done and adds up
 * what they slept (each step's result carries the total of the steps before
 * it). Step names `c<chain>s<step>`; task ids `<flow id>:<name>`.
 */
export function demoFlow(o: Omit<ProduceFlowOptions, 'flowId' | 'policy' | 'wait' | 'timeoutMs'>) {
  const backoff = { type: 'fixed' as const, delayMs: o.retryDelayMs };
  const step = (name: string): FlowStep => {
    const ms = o.minMs + Math.floor(Math.random() * (o.maxMs - o.minMs + 1));
    const failAttempts = Math.random() < o.failRate ? 1 + Math.floor(Math.random() * o.maxAttempts) : 0;
    return {
      name,
      type: 'sleep',
      payload: failAttempts > 0 ? { ms, failAttempts } : { ms },
      maxAttempts: o.maxAttempts,
      backoff,
      ...(o.priority === undefined ? {} : { priority: o.priority }),
    };
  };
  const chains = Array.from({ length: o.count }, (_, c) => chain(...Array.from({ length: CHAIN_STEPS }, (_, s) => step(`c${c + 1}s${s + 1}`))));
  return chord(group(...chains), { ...step('total'), payload: { ms: 0 } });
}

/**
 * Adds the demo flow and, unless told not to, follows it to its end with the
 * Monitor: a log line per step that ends (`flow f: 4/16 steps done (c2s1 Done)`),
 * then the flow's final state.
 */
export async function produceFlow(flows: Flows, monitor: Monitor, logger: Logger, o: ProduceFlowOptions): Promise<FlowSummary> {
  const started = performance.now();
  const wallMs = (): number => Math.round(performance.now() - started);
  let off = (): void => undefined;
  if (o.wait) {
    await monitor.start();
    const stop = monitor.onFlowEvent((e) => {
      if (e.flow !== o.flowId || e.step === undefined) return;
      logger.info(
        { flow: e.flow, step: e.step, stepStatus: e.stepStatus, done: e.done, total: e.total },
        `flow ${e.flow}: ${e.done}/${e.total} steps done (${e.step} ${e.stepStatus ?? ''})`,
      );
    });
    off = () => void stop();
  }
  try {
    const added = await flows.add(demoFlow(o), { id: o.flowId, policy: o.policy });
    logger.info(
      { flow: added.id, steps: added.steps.length, queue: flows.keys.queue },
      `added flow ${added.id}: ${o.count} chain(s) of ${CHAIN_STEPS} steps and a chord callback (${added.steps.length} steps)${added.created ? '' : ' (it existed already)'}`,
    );
    if (!o.wait) return { flow: added.id, queue: flows.keys.queue, status: 'FlowRunning', total: added.steps.length, counts: {}, wallMs: wallMs() };
    let state: FlowState;
    try {
      state = await monitor.waitForFlow(added.id, o.timeoutMs > 0 ? { timeoutMs: o.timeoutMs } : {});
    } catch (err) {
      if (err instanceof Error && err.name === 'MonitorTimeoutError') {
        const now = await flows.get(added.id);
        const pending = (now?.steps ?? []).filter((s) => s.status === 'Waiting' || s.status === 'Released').map((s) => s.taskId);
        throw new WaitTimeoutError(pending.length, added.steps.length, o.timeoutMs, pending.slice(0, 5));
      }
      throw err;
    }
    const counts: Record<string, number> = {};
    for (const s of state.steps) counts[s.status] = (counts[s.status] ?? 0) + 1;
    const result = state.steps.find((s) => s.name === 'total')?.result as { totalMs?: number } | undefined;
    return {
      flow: state.id,
      queue: flows.keys.queue,
      status: state.status,
      total: state.total,
      counts,
      ...(typeof result?.totalMs === 'number' ? { totalSleptMs: result.totalMs } : {}),
      wallMs: wallMs(),
    };
  } finally {
    off();
  }
}

/** `flow f FlowDone: 16/16 steps Done; slept 48210 ms in all; wall time 9.12 s` */
export function describeFlowSummary(s: FlowSummary): string {
  const others = Object.entries(s.counts)
    .filter(([status]) => status !== 'Done')
    .map(([status, n]) => `${n} ${status}`);
  const slept = s.totalSleptMs === undefined ? '' : `; slept ${s.totalSleptMs} ms in all`;
  return `flow ${s.flow} ${s.status}: ${s.counts['Done'] ?? 0}/${s.total} steps Done${others.length ? `, ${others.join(', ')}` : ''}${slept}; wall time ${(s.wallMs / 1000).toFixed(2)} s`;
}
