/** The systems compared, in the order they run. */
export const SYSTEMS = ['taskq', 'bullmq', 'bee-queue'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** The scenarios, in the order they run. */
export const SCENARIOS = ['enqueue', 'drain', 'latency', 'memory', 'scale'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Systems the scale scenario runs: it is taskq's own check that cost per task stays flat. */
export const SCALE_SYSTEMS: readonly SystemName[] = ['taskq'];
