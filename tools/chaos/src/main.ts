// tsyringe (behind the Monitor and Queue classes) needs Reflect.getMetadata at import.
import 'reflect-metadata';
import { parseArgs, UsageError, type ChaosOptions } from './args';
import { failures } from './checks';
import { flowDetailLines, flowFailures, flowsLine } from './flow-checks';
import { runChaos } from './chaos-run';
import { detailLines, summaryLine, verdictLine } from './summary';

/** Exit codes: checks passed, a check failed, bad usage or a run that could not be carried out, interrupted. */
const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message} (see --help)\n`);
    return EXIT.usage;
  }

  // First SIGINT/SIGTERM: abort the run, which stops every child before it settles. Second: exit now
  // (the harness's exit hook still SIGKILLs redis-server, ours the workers).
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) process.exit(EXIT.interrupted);
    process.stderr.write(`chaos: ${signal}: stopping workers and redis-server (send again to exit at once)\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const { report, facts, flows } = await runChaos(options, controller.signal, out);
    out(summaryLine(report, facts));
    if (flows !== undefined) out(flowsLine(flows));
    for (const line of detailLines(report, facts)) out(line);
    if (flows !== undefined) for (const line of flowDetailLines(flows)) out(line);
    const failed = [
      ...failures(report, {
        slowHolds: facts.holdTimes?.over,
        holdLimitMs: options.maxHoldMs,
        unstartedFetches: facts.unstarted?.count,
      }),
      ...(flows === undefined ? [] : flowFailures(flows)),
    ];
    out(verdictLine(failed));
    return failed.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (err) {
    if (controller.signal.aborted) {
      process.stderr.write('chaos: interrupted; workers and redis-server stopped\n');
      return EXIT.interrupted;
    }
    process.stderr.write(`chaos: the run could not be carried out: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env['TASKQ_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.usage;
  }
}

void main().then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a handle linger anyway, do not hang the caller.
  setTimeout(() => process.exit(code), 2000).unref();
});
