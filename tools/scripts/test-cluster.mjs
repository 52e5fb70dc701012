#!/usr/bin/env node
// `npm run test:cluster` (CI's cluster step): taskq on a Redis Cluster of 3
// masters on loopback, as the integration suites and the chaos run see it.
//
//  1. `npm run chaos -- --cluster --tasks 2500`: 2,500 tasks and 60 flows over three queues
//     on three masters, workers SIGKILLed, one master restarted (AOF);
//  2. the integration tests (tools/integration) with TASKQ_TEST_TOPOLOGY=cluster:
//     the jest global setup starts the cluster and every test, library client
//     and app gets its `redis+cluster://` URL; every file but those listed
//     below (a new file runs here unless it is listed).
//
// `npm run test:cluster -- --all` also runs the files left out for time below and
// chaos with its default 5,000 tasks (about 3 minutes more; not in CI).
//
// Passes their output through and closes with `tests: N passed, 0 failed`
// (the jest tests, and the chaos run counted as one); exits 1 on any failure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JestTotals } from './jest-totals.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INTEGRATION = join(ROOT, 'tools/integration/src');

/** Files that need one redis-server: they run in `npm test` only. */
const SINGLE_SERVER = {
  'acl-user.test.ts': 'an ACL user on a redis-server of its own (a cluster keeps users per node; chaos --acl-user is the same on one server)',
  'api-events-server.test.ts': "the API's one subscriber connection of a server: PSUBSCRIBE of every queue, NUMSUB/NUMPAT, CLIENT KILL, the ACL refusing the pattern",
  'cli-help.test.ts': '--help and the docker/k8s worker commands, on a redis-server of its own or none',
  'cli-readme.test.ts': "the README's Ops CLI commands as typed, on a redis-server of its own",
  'cluster.test.ts': 'starts a cluster of its own (in npm test)',
  'cluster-sharded.test.ts': 'starts a cluster of its own and reshards it (in npm test)',
  'connection-ownership.test.ts': 'counts connections by name on a redis-server of its own',
  'data-loss.test.ts': 'restarts a redis-server of its own without persistence',
  'demo.test.ts': "the demo's embedded Redis",
  'metrics.test.ts': 'stops a redis-server of its own to see /readyz turn 503',
  'monitor-reconnect.test.ts': "CLIENT KILL of a Monitor's one subscriber connection, and a redis-server restarted under it",
  'nx-serve.test.ts': "the README's npx nx commands, each on a redis-server of its own (the queue default)",
  'nx-stop.test.ts': 'Ctrl-C and SIGTERM to npx nx, on a redis-server of its own',
  'out-of-memory.test.ts': 'maxmemory on a redis-server of its own',
  'redis-url.test.ts': "bad URLs, passwords and databases of a redis-server of its own (a cluster URL's errors are in cluster.test)",
  'sentinel.test.ts': 'starts a Sentinel group of its own (master, replica, 3 sentinels) per test, fails it over and kills its master',
  'wait-replicas.test.ts': 'a master and a replica of its own (--wait-replicas; a cluster of this harness has no replicas)',
};

/** Files that pass on a cluster but are left out of this step for its time budget (seconds on a cluster, beside another file). */
const LEFT_OUT_FOR_TIME = {
  'cli.test.ts': '73 s: the ops CLI; on a cluster taskq stats and watch are in cluster*.test, the flow commands in cli-flow.test',
  // and on a cluster its first test can fail: the page follows every queue, and a queue made after the page
  // loaded is found within 2 s (no pattern in sharded pub/sub), its first events then replayed as each task's
  // latest status, so a 300 ms task's InProgress may never reach the live feed (README: Redis Cluster)
  'dashboard.test.ts': '45 s: headless Chromium on the API; its GET /events and routes are in api-events.test and api.test',
  'bad-input.test.ts': '10 s: argument errors and an unreachable Redis, the same on either',
  'library-defaults.test.ts': '15 s: the libraries\' default options and connection, the same on either (the cluster connection itself is in every other file)',
  // CI's 15-minute budget (a fresh-clone run reached 14 min): scripts whose logic is the same on
  // either, each on one queue (one hash tag, one node), run single-server in npm test
  'queues.test.ts': '16 s: --queues parsing and weighted selection; three weighted queues on three masters are chaos --cluster\'s',
  'limits.test.ts': '13 s: concurrency and rate limits, one queue\'s scripts',
  'delayed.test.ts': '12 s: delayed tasks promoted by the fetch script, one queue',
  'producer-big.test.ts': '8 s: large payloads through the producer',
  'retention.test.ts': '7 s: the janitor\'s trim of one queue',
  'progress.test.ts': '7 s: progress records of one queue',
  'fencing.test.ts': '6 s: fencing tokens in one queue\'s scripts',
  'producer-wait.test.ts': '5 s: producer --wait on one queue\'s events (sharded pub/sub is in cluster-sharded.test)',
};

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--all');
if (unknown.length > 0) {
  process.stderr.write(`test:cluster: unknown argument ${unknown.join(' ')}\nusage: npm run test:cluster [-- --all]\n`);
  process.exit(2);
}
const all = args.includes('--all');
const left = all ? { ...SINGLE_SERVER } : { ...SINGLE_SERVER, ...LEFT_OUT_FOR_TIME };
const missing = Object.keys({ ...SINGLE_SERVER, ...LEFT_OUT_FOR_TIME }).filter((f) => !existsSync(join(INTEGRATION, f)));
if (missing.length > 0) {
  process.stderr.write(`test:cluster: listed but not in tools/integration/src: ${missing.join(', ')}\n`);
  process.exit(2);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ignore = `/src/(${Object.keys(left).map(escape).join('|')})$`;
const startedAt = Date.now();
const env = { ...process.env, NX_DAEMON: 'false' };

/** Runs `npx <args>`, its stdout passed through and handed to `onChunk`; resolves with the exit code. */
function run(args, extraEnv, onChunk) {
  return new Promise((resolvePromise) => {
    const child = spawn('npx', args, { cwd: ROOT, stdio: ['inherit', 'pipe', 'inherit'], env: { ...env, ...extraEnv } });
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      onChunk(chunk);
    });
    child.on('close', (code) => resolvePromise(code ?? 1));
  });
}

let chaosOutput = '';
// 2,500 tasks (about 20 s less than the default 5,000; CI's 15-minute budget is tight)
const chaosTasks = all ? [] : ['--tasks', '2500'];
const chaosCode = await run(['nx', 'run', '@taskq/chaos:chaos', '--output-style=static', '--', '--cluster', ...chaosTasks], {}, (chunk) => (chaosOutput += chunk.toString()));
const chaosLine = /^chaos \(cluster\): .*$/m.exec(chaosOutput)?.[0] ?? 'chaos (cluster): no summary line';
const chaosPassed = chaosCode === 0 && /^chaos: passed$/m.test(chaosOutput);
const chaosDone = Date.now();

const totals = new JestTotals();
const jestCode = await run(
  ['nx', 'run', '@taskq/integration:test', '--output-style=static', `--testPathIgnorePatterns=${ignore}`],
  { TASKQ_TEST_TOPOLOGY: 'cluster' },
  (chunk) => totals.add(chunk),
);
totals.end();

const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const passed = totals.passed + (chaosPassed ? 1 : 0);
const failed = totals.failed + (chaosPassed ? 0 : 1);
const held = totals.heldOpen ? `, ${totals.heldOpen} jest run(s) held open after their tests (open handles)` : '';
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
process.stdout.write(totals.failureSummary());
process.stdout.write(
  `\n${chaosLine}\n` +
    `chaos --cluster ${chaosPassed ? 'passed' : 'FAILED'} (${seconds(chaosDone - startedAt)}); integration tests on the cluster: ${totals.passed} passed, ${totals.failed} failed (${seconds(Date.now() - chaosDone)}); ` +
    `${Object.keys(SINGLE_SERVER).length} files single-server only, ${all ? 'none' : Object.keys(LEFT_OUT_FOR_TIME).length} left out for time; ${seconds(Date.now() - startedAt)} in all\n` +
    `tests: ${passed} passed, ${failed} failed${skipped}${held}\n`,
);
process.exit(chaosPassed && jestCode === 0 && totals.suites > 0 && failed === 0 && totals.heldOpen === 0 ? 0 : 1);
