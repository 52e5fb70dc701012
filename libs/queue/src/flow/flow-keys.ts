import { DEFAULT_KEY_PREFIX } from '../keys';
import { idProblem } from '../ids';
import { InvalidFlowError } from '../errors/invalid-flow-error';

/**
 * The keys of flows. A flow's own state is one hash under its own hash tag
 * (`<prefix>:flow:{<id>}`), so every flow script touches one Redis Cluster
 * slot; its steps' tasks are in their queues' slots, and what crosses slots
 * is carried by idempotent steps (see QueueKeys.flowOutbox).
 */
export interface FlowKeys {
  /** Sorted set flow id -> creation time (ms): every flow not yet forgotten. */
  readonly index: string;
  /**
   * Sorted set flow id -> time (ms) after which a janitor reconciles it: an
   * adder or canceller puts the flow here before it writes, and takes it out
   * once it enqueued or cancelled what it had to. One left behind (the
   * process stopped between) is finished by the next janitor pass after it.
   */
  readonly unsettled: string;
  /** Pub/sub channel of flow events (see FlowEvent). */
  readonly events: string;
  /** The hash of one flow's state. */
  flow(id: string): string;
}

export function flowKeys(prefix: string = DEFAULT_KEY_PREFIX): FlowKeys {
  return {
    index: `${prefix}:flows`,
    unsettled: `${prefix}:flows:unsettled`,
    events: `${prefix}:flow-events`,
    flow: (id: string) => `${prefix}:flow:{${id}}`,
  };
}

/** Longest flow id and step name. */
export const MAX_FLOW_NAME_LENGTH = 100;

/** Throws InvalidFlowError unless `name` can be a flow id or step name (task id rules, 1-100 characters, no braces). */
export function assertFlowName(what: string, name: unknown): asserts name is string {
  const problem = typeof name !== 'string' ? `a ${typeof name}` : /[{}]/.test(name) ? 'a brace' : idProblem(name, 1, MAX_FLOW_NAME_LENGTH);
  if (problem !== undefined) {
    throw new InvalidFlowError(
      `${what} must be 1-${MAX_FLOW_NAME_LENGTH} characters without spaces, quotes, backslashes, braces or control characters, got ${JSON.stringify(name)}: ${problem}`,
    );
  }
}
