import { LEAN_SYSTEMS, type LeanSystem } from './reference/lean';

/** The systems compared, in the order they run (the default of --only). */
export const SYSTEMS = ['taskq', 'bullmq', 'bee-queue'] as const;
/** Reference variants (reference/lean.ts) that --only may add; they run the drain scenario only. */
export const REFERENCE_SYSTEMS: readonly LeanSystem[] = LEAN_SYSTEMS;
export type SystemName = (typeof SYSTEMS)[number] | LeanSystem;

/** The scenarios, in the order they run. */
export const SCENARIOS = ['enqueue', 'drain', 'weighted', 'cluster', 'replicas', 'fleet', 'idle-fleet', 'latency', 'memory', 'scale'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Systems the scale scenario runs: it is taskq's own check that cost per task stays flat. */
export const SCALE_SYSTEMS: readonly SystemName[] = ['taskq'];

/**
 * Scenarios a system cannot run as specified, with the reason: the bench
 * reports them as not applicable (n/a) rather than running something else
 * under the scenario's name.
 */
const NOT_APPLICABLE: Partial<Record<ScenarioName, Partial<Record<SystemName, string>>>> = {
  weighted: { 'bee-queue': 'bee-queue has no job priorities (and no worker over several queues)' },
  cluster: { 'bee-queue': 'bee-queue has no Redis Cluster support (its client is node-redis 3, which follows no MOVED redirection)' },
  replicas: {
    bullmq: 'BullMQ has no option to wait for replicas after adding a job (it sends no WAIT)',
    'bee-queue': 'bee-queue has no option to wait for replicas after saving a job (it sends no WAIT)',
  },
};

/** Why `system` does not run `scenario`, or undefined when it does. */
export function notApplicable(scenario: ScenarioName, system: SystemName): string | undefined {
  return NOT_APPLICABLE[scenario]?.[system];
}
