import { assertQueueName } from '../keys';
import { encodeTaskTail, validateInput, type TaskInput } from '../task';
import { InvalidFlowError } from '../errors/invalid-flow-error';
import { InvalidTaskError } from '../errors/invalid-task-error';
import { assertFlowName } from './flow-keys';

/** One step of a flow: a task input (no id: a step's task id is `<flow id>:<step>`; no runAt), where it runs, and its name. */
export interface FlowStep extends Omit<TaskInput, 'id' | 'runAt'> {
  /** Unique in the flow (task id rules, 1-100 characters, no braces). Default `s1`, `s2`, … in the order the steps appear. */
  readonly name?: string;
  /** The queue its task is enqueued in. Default: the Flows object's queue. */
  readonly queue?: string;
  /** Names of steps it waits for, besides what chain/chord already make it wait for (the general DAG). */
  readonly dependsOn?: readonly string[];
}

/** Steps one after another: each starts when the one before it is Done, and gets its result. */
export interface FlowChain {
  readonly kind: 'chain';
  readonly nodes: readonly FlowNode[];
}

/** Steps side by side: they all start together; what follows a group waits for every member. */
export interface FlowGroup {
  readonly kind: 'group';
  readonly nodes: readonly FlowNode[];
}

/** Steps that name what they wait for (`dependsOn`); what follows a dag waits for its steps nothing in it waits for. */
export interface FlowDag {
  readonly kind: 'dag';
  readonly steps: readonly FlowStep[];
}

/** Anything a flow is made of. */
export type FlowNode = FlowStep | FlowChain | FlowGroup | FlowDag;

/** `chain(a, b, c)`: a, then b with a's result, then c with b's. */
export function chain(...nodes: FlowNode[]): FlowChain {
  return { kind: 'chain', nodes };
}

/** `group(a, b, c)`: a, b and c in parallel. */
export function group(...nodes: FlowNode[]): FlowGroup {
  return { kind: 'group', nodes };
}

/** `chord(group(a, b), callback)`: the callback runs once every member is Done, with all their results. */
export function chord(header: FlowNode, callback: FlowNode): FlowChain {
  return chain(header, callback);
}

/** `dag({ name: 'a', … }, { name: 'b', dependsOn: ['a'], … })`: the general graph. */
export function dag(...steps: FlowStep[]): FlowDag {
  return { kind: 'dag', steps };
}

/** Most steps one flow may have. */
export const MAX_FLOW_STEPS = 1000;

/** A step as the flow stores it. */
export interface CompiledStep {
  readonly name: string;
  readonly queue: string;
  /** The task input (JSON-safe, validated): type, payload and the options given. */
  readonly input: TaskInput;
  /** The steps it waits for. */
  readonly deps: string[];
  /** The steps that wait for it. */
  readonly next: string[];
}

function isStep(node: FlowNode): node is FlowStep {
  return !('kind' in node) || (node as { kind?: unknown }).kind === undefined;
}

/**
 * Turns a flow into its steps, in the order they appear, each with what it
 * waits for; validates everything (InvalidFlowError, InvalidTaskError).
 */
export function compileFlow(root: FlowNode, defaultQueue: string): CompiledStep[] {
  const raw: { step: FlowStep; deps: Set<string>; name?: string }[] = [];
  const given = new Set<string>();
  const walk = (node: FlowNode, before: readonly number[]): number[] => {
    if (typeof node !== 'object' || node === null) throw new InvalidFlowError(`a flow is made of steps, chain(), group(), chord() and dag(), got ${JSON.stringify(node)}`);
    if (isStep(node)) {
      const i = raw.length;
      raw.push({ step: node, deps: new Set(before.map(String)) });
      return [i];
    }
    if (node.kind === 'chain') {
      let tails = [...before];
      for (const n of node.nodes) tails = walk(n, tails);
      return tails;
    }
    if (node.kind === 'group') {
      if (node.nodes.length === 0) throw new InvalidFlowError('a group needs at least one step');
      return node.nodes.flatMap((n) => walk(n, before));
    }
    if (node.kind === 'dag') {
      if (node.steps.length === 0) throw new InvalidFlowError('a dag needs at least one step');
      const mine = node.steps.map((s) => {
        if (s.name === undefined) throw new InvalidFlowError('every step of a dag needs a name (its dependsOn names them)');
        return walk(s, before)[0];
      });
      const waitedFor = new Set(node.steps.flatMap((s) => s.dependsOn ?? []));
      return mine.filter((i) => !waitedFor.has(raw[i].step.name as string));
    }
    throw new InvalidFlowError(`unknown flow node kind ${JSON.stringify((node as { kind: unknown }).kind)}`);
  };
  walk(root, []);
  if (raw.length === 0) throw new InvalidFlowError('a flow needs at least one step');
  if (raw.length > MAX_FLOW_STEPS) throw new InvalidFlowError(`a flow has at most ${MAX_FLOW_STEPS} steps, this one ${raw.length}`);
  for (const r of raw) {
    if (r.step.name === undefined) continue;
    assertFlowName('a step name', r.step.name);
    if (given.has(r.step.name)) throw new InvalidFlowError(`two steps are named ${JSON.stringify(r.step.name)}`);
    given.add(r.step.name);
  }
  // default names s1, s2, … skipping the given ones
  let counter = 0;
  const names = raw.map((r) => {
    if (r.step.name !== undefined) return r.step.name;
    let name: string;
    do name = `s${++counter}`;
    while (given.has(name));
    given.add(name);
    return name;
  });
  const steps: CompiledStep[] = raw.map((r, i) => {
    const { name: _name, queue = defaultQueue, dependsOn = [], ...input } = r.step;
    const label = `step ${names[i]}`;
    assertQueueName(queue);
    if ((r.step as TaskInput).id !== undefined) throw new InvalidFlowError(`${label}: a step has no id (its task id is <flow id>:<step name>); give it a name`);
    if ((r.step as TaskInput).runAt !== undefined) throw new InvalidFlowError(`${label}: a step has no runAt (it starts when its deps are Done); delayMs delays it from then`);
    try {
      validateInput(input);
      encodeTaskTail(input, label); // the payload is JSON-safe
    } catch (err) {
      if (err instanceof InvalidTaskError) throw new InvalidTaskError(`${label}: ${err.message}`);
      throw err;
    }
    if (!Array.isArray(dependsOn)) throw new InvalidFlowError(`${label}: dependsOn must be an array of step names`);
    const deps = [...r.deps].map((d) => names[Number(d)]);
    for (const d of dependsOn as readonly string[]) {
      if (!given.has(d) || !names.includes(d)) throw new InvalidFlowError(`${label} depends on ${JSON.stringify(d)}, which is no step of this flow`);
      if (d === names[i]) throw new InvalidFlowError(`${label} depends on itself`);
      if (!deps.includes(d)) deps.push(d);
    }
    return { name: names[i], queue, input: JSON.parse(JSON.stringify(input)) as TaskInput, deps, next: [] };
  });
  const byName = new Map(steps.map((s) => [s.name, s]));
  for (const s of steps) for (const d of s.deps) byName.get(d)?.next.push(s.name);
  // no cycles: every step can be ordered after its deps (Kahn)
  const left = new Map(steps.map((s) => [s.name, s.deps.length]));
  const ready = steps.filter((s) => s.deps.length === 0).map((s) => s.name);
  let ordered = 0;
  while (ready.length > 0) {
    const name = ready.pop() as string;
    ordered++;
    for (const n of byName.get(name)?.next ?? []) {
      const l = (left.get(n) ?? 0) - 1;
      left.set(n, l);
      if (l === 0) ready.push(n);
    }
  }
  if (ordered < steps.length) {
    const cyclic = steps.filter((s) => (left.get(s.name) ?? 0) > 0).map((s) => s.name);
    throw new InvalidFlowError(`the steps ${cyclic.join(', ')} wait for each other (a cycle)`);
  }
  return steps;
}
