import type { CheckReport } from './checks';
import type { HoldTimeReport } from './hold-time';
import type { UnstartedReport } from './unstarted';

/** Facts of the run itself, beside the check report. */
export interface RunFacts {
  readonly kills: number;
  readonly redisRestarts: number;
  /** The workers ran as a Redis user limited to taskq:* (--acl-user). */
  readonly aclUser?: boolean;
  /** The workers took tasks by hand-off (--hand-off). */
  readonly handOff?: boolean;
  /** The run was on a Redis Cluster (--cluster): its restart was one master's. */
  readonly cluster?: boolean;
  /** Whether the tasks had priorities (0-9). */
  readonly priorities?: boolean;
  /** The queues the tasks were spread over and their weights, when more than one (every worker served them all). */
  readonly queues?: readonly { readonly name: string; readonly weight: number }[];
  readonly seed: number;
  /** From start to the verdict, ms. */
  readonly wallMs: number;
  /** From the first enqueue until every task was final, ms; undefined if the time limit passed first. */
  readonly drainMs: number | undefined;
  readonly durationLimitMs: number;
  readonly workersStarted: number;
  readonly workersAtOnce: number;
  readonly unexpectedExits: number;
  /** START lines without an outcome line. */
  readonly interrupted: number;
  /** Fetches a live worker never handled. */
  readonly unstarted?: UnstartedReport;
  /** How long attempts held their task InProgress; undefined when no attempt finished. */
  readonly holdTimes?: HoldTimeReport;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * The one-line verdict: `chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart`,
 * then `, priorities 0-9` (the tasks have priorities), `, 3 queues weighted 6/3/1` (each worker served
 * them all), and `, workers as ACL user ~taskq:*` after `--acl-user` (`, workers with --hand-off` after `--hand-off`). On a cluster it begins
 * `chaos (cluster):`, its restarts are `master restart`s, and the queues are `on 3 masters`.
 */
export function summaryLine(report: CheckReport, facts: Pick<RunFacts, 'kills' | 'redisRestarts' | 'aclUser' | 'handOff' | 'cluster' | 'priorities' | 'queues'>): string {
  const queues = facts.queues ?? [];
  const where = facts.cluster ? ` on ${queues.length} masters` : '';
  return [
    `chaos${facts.cluster ? ' (cluster)' : ''}: ${plural(report.tasks, 'task')}`,
    `${report.lost} lost`,
    `${report.stuck} stuck`,
    `${report.flipped} flipped`,
    plural(report.repeated, 'repeated execution'),
    plural(facts.kills, 'kill'),
    plural(facts.redisRestarts, facts.cluster ? 'master restart' : 'redis restart'),
    ...(facts.priorities ? ['priorities 0-9'] : []),
    ...(queues.length > 1 ? [`${queues.length} queues weighted ${queues.map((q) => q.weight).join('/')}${where}`] : []),
    ...(facts.aclUser ? ['workers as ACL user ~taskq:*'] : []),
    ...(facts.handOff ? ['workers with --hand-off'] : []),
  ].join(', ');
}

/** The lines printed after the summary: timing, statuses, monitor coverage, executions, and examples of each failed check. */
export function detailLines(report: CheckReport, facts: RunFacts): string[] {
  const statuses = Object.entries(report.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const drained =
    facts.drainMs !== undefined
      ? `every task final ${seconds(facts.drainMs)} after the first enqueue`
      : `time limit of ${seconds(facts.durationLimitMs)} passed before every task was final`;
  const lines = [
    `  wall time ${seconds(facts.wallMs)}; ${drained}`,
    `  recorded statuses: ${statuses}`,
    `  monitor: final status seen for ${report.monitorSawFinal} of ${report.tasks} tasks; ${report.monitorMissed} recorded final but not seen final (missed)`,
    `  executions: ${report.starts} START lines, ${report.expectedStarts} needed by the plan, ${facts.interrupted} interrupted (no outcome line)`,
    `  attempt anomalies: ${report.attemptAnomalies} (expected status, fewer attempts recorded than needed)`,
    `  dead by kills: ${report.deadByKills} (planned Done, but its workers were killed under it too often; allowed)`,
    `  workers: ${facts.workersStarted} started, ${facts.workersAtOnce} at a time, ${facts.unexpectedExits} exited by themselves`,
    `  seed ${facts.seed} (same task plan: --seed ${facts.seed})`,
  ];
  if (facts.holdTimes !== undefined) {
    const h = facts.holdTimes;
    lines.splice(
      3,
      0,
      `  held InProgress: p99 ${seconds(h.p99Ms)}, max ${seconds(h.maxMs)}, ${h.over} over ${seconds(h.limitMs)}; longest ${h.longest}`,
    );
  }
  if (facts.unstarted !== undefined) {
    const u = facts.unstarted;
    lines.splice(4, 0, `  fetch replies lost (Redis restart) and returned to the queue by the worker: ${u.reconciled}`);
    lines.splice(5, 0, `  fetched but never handled by a live worker: ${u.count}${u.examples.length ? `: ${u.examples.join('; ')}${u.count > u.examples.length ? '; …' : ''}` : ''}`);
  }
  for (const [check, ids] of Object.entries(report.examples)) {
    if (ids.length > 0) lines.push(`  ${check}: ${ids.join('; ')}${ids.length < countOf(report, check) ? '; …' : ''}`);
  }
  return lines;
}

/** The last line: `chaos: passed`, or `chaos: FAILED: 2 lost, 2 stuck`. */
export function verdictLine(failed: readonly string[]): string {
  return failed.length === 0 ? 'chaos: passed' : `chaos: FAILED: ${failed.join(', ')}`;
}

function countOf(report: CheckReport, check: string): number {
  const value = (report as unknown as Record<string, unknown>)[check];
  return typeof value === 'number' ? value : 0;
}
