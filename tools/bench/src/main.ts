// tsyringe (behind taskq's Queue) needs Reflect.getMetadata at import.
import 'reflect-metadata';
import { HAND_OFF_ENV } from './workers/taskq-worker';
import { writeFileSync } from 'node:fs';
import { connectRedis } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { parseArgs, UsageError, type BenchOptions } from './args';
import { describeMachine, machineLines } from './machine';
import { infoField } from './redis-admin';
import { formatTable, jsonLines, notApplicableLines } from './report';
import { jsonRecord } from './results';
import { runBench } from './run';
import { redisTarget } from './systems/producer';
import { evaluateTargets, verdictLine } from './targets';

/** Exit codes: every run completed; a system failed or lost tasks; bad usage or no redis-server; interrupted. */
const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function bench(options: BenchOptions, signal: AbortSignal): Promise<number> {
  const { plan } = options;
  // the worker processes this forks inherit it (see taskq-worker.ts)
  if (plan.handOff === true) process.env[HAND_OFF_ENV] = '1';
  let server: RedisServer | undefined;
  try {
    server = await startRedisServer();
    const admin = await connectRedis(server.url, { connectionName: 'bench-admin' });
    try {
      const machine = describeMachine((await infoField(admin, 'server', 'redis_version')) ?? 'unknown');
      for (const line of machineLines(machine)) out(line);
      out(
        `plan: ${plan.smoke ? 'SMOKE (small sizes; targets not judged)' : 'full'}; systems ${plan.systems.join(', ')}; ` +
          `scenarios ${plan.scenarios.join(', ')}; repeat ${plan.repeat}; worker concurrency ${plan.concurrency}` +
          (plan.handOff === true ? "; taskq's workers with handOff: true" : ''),
      );
      const started = Date.now();
      const outcome = await runBench({ target: redisTarget(server.url), admin, serverPid: server.pid, plan }, options.progress ? err : () => undefined, signal);
      const verdicts = evaluateTargets(outcome.results).filter((v) => plan.scenarios.includes(v.target.bench));
      out('');
      for (const line of formatTable(plan, outcome.results, outcome.errors, outcome.notApplicable)) out(line);
      out('');
      for (const v of verdicts) out(verdictLine(v, plan.smoke));
      for (const line of notApplicableLines(outcome.notApplicable)) out(line);
      for (const e of outcome.errors) out(`ERROR ${e.bench} ${e.system} n=${e.n}: ${e.error}`);
      out(`bench took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      out('');
      for (const line of jsonLines(outcome.results, outcome.errors, outcome.notApplicable)) out(line);
      if (options.out !== undefined) {
        const file = {
          machine,
          plan,
          results: outcome.results.map((r) => jsonRecord(r, outcome.results)),
          errors: outcome.errors,
          notApplicable: outcome.notApplicable,
          targets: verdicts.map((v) => ({ target: v.target.label, bench: v.target.bench, ratio: v.ratio, pass: plan.smoke ? undefined : v.pass })),
        };
        writeFileSync(options.out, `${JSON.stringify(file, null, 2)}\n`);
        err(`bench: results written to ${options.out}`);
      }
      return outcome.errors.length === 0 ? EXIT.ok : EXIT.failed;
    } finally {
      admin.disconnect();
    }
  } finally {
    await server?.stop();
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`bench: ${e.message} (see --help)`);
    return EXIT.usage;
  }
  // First SIGINT/SIGTERM: no new run starts; the current one finishes. Second: exit now (the exit
  // hooks SIGKILL the worker processes and redis-server).
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(EXIT.interrupted);
    err(`bench: ${signal}: stopping after the current run (send again to exit at once)`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await bench(options, controller.signal);
  } catch (e) {
    if (controller.signal.aborted) {
      err('bench: interrupted');
      return EXIT.interrupted;
    }
    err(`bench: could not run: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['TASKQ_DEBUG'] && e instanceof Error) err(`${e.stack}`);
    return EXIT.usage;
  }
}

void main().then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a handle linger anyway, do not hang the caller.
  setTimeout(() => process.exit(code), 2000).unref();
});
