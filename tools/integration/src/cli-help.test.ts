import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line, type AppName } from './test-support/app-process';
import { newQueueName, testRedisUrl } from './test-support/redis-fixture';
import { WORKSPACE_ROOT } from './test-support/shell-command';

// `--help` must tell the truth, and the commands the repository itself types
// (docker/, the Kubernetes manifest) must be ones the apps accept.

const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllApps();
  for (const server of servers.splice(0)) await server.stop();
});

async function help(app: AppName): Promise<string> {
  const proc = AppProcess.start(app, ['--help']);
  const exit = await proc.waitForExit(10_000);
  expect({ code: exit.code, signal: exit.signal, stderr: proc.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  // yargs wraps long entries: joined back, each option is one line
  const entries: string[] = [];
  for (const l of proc.stdoutLines) {
    const startsEntry = /^\S/.test(l) || /^ {2}[\w-]/.test(l) || /^ {6}--/.test(l);
    if (startsEntry || entries.length === 0) entries.push(l);
    else entries[entries.length - 1] += ` ${l.trim()}`;
  }
  return entries.join('\n');
}

/** The option's entry in a help text, from its flag to the next option. */
function entry(text: string, flag: string): string {
  const m = new RegExp(`(?:^|\\n)\\s*(?:-\\w, )?${flag}\\b([^\\n]*)`).exec(text);
  if (!m) throw new Error(`${flag} is not in the help:\n${text}`);
  return m[1] ?? '';
}

/**
 * A worker Deployment's container command and args in docker/k8s/worker-deployment.yaml, read
 * as YAML, without its `--metrics-port` pair: the port is fixed there (9464), and files running
 * beside this one may hold it (tools/k8s-check runs the manifests with the port on a free one).
 */
function manifestCommand(deployment: string): string[] {
  const docs = parseAllDocuments(readFileSync(join(WORKSPACE_ROOT, 'docker/k8s/worker-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  type Container = { command?: string[]; args?: string[] };
  const doc = docs.find((d) => d['kind'] === 'Deployment' && (d['metadata'] as { name?: string } | undefined)?.name === deployment);
  const container = (doc?.['spec'] as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec?.containers?.[0];
  if (!container?.command) throw new Error(`no Deployment ${deployment} with a container command in docker/k8s/worker-deployment.yaml`);
  return withoutMetricsPort([...container.command, ...(container.args ?? [])]);
}

/** A command without its `--metrics-port` pair (docker/ and the manifest fix it at 9464; see manifestCommand). */
function withoutMetricsPort(command: string[]): string[] {
  const args = [...command];
  const port = args.indexOf('--metrics-port');
  if (port >= 0) args.splice(port, 2);
  return args;
}

/** `CMD [...]`, `command: [...]`, `args: [...]`: the first JSON array after `key` in a file of the repository that has `containing`. */
function jsonArrayAfter(file: string, key: string, containing = ''): string[] {
  const text = readFileSync(join(WORKSPACE_ROOT, file), 'utf8');
  for (const m of text.matchAll(new RegExp(`^\\s*${key}\\s*(\\[.*\\])\\s*$`, 'gm'))) {
    const array = JSON.parse(m[1] ?? '[]') as string[];
    if (array.some((a) => a.includes(containing))) return array;
  }
  throw new Error(`no ${key} [...] with ${containing} in ${file}`);
}

describe('--help', () => {
  it("demo: Redis defaults to the embedded one and task ids to task_ there; no --wait (it always waits)", async () => {
    const text = await help('demo');
    expect(entry(text, '--redis')).toMatch(/\[default: \$REDIS_URL, else an embedded in-memory Redis inside this process\]/);
    expect(entry(text, '--redis')).not.toContain('127.0.0.1:6379');
    expect(entry(text, '--id-prefix')).toMatch(/\[default: "task_" on the embedded Redis, else "task_<run>_"/);
    // no --wait option (--wait-replicas is another)
    expect(text).not.toMatch(/^\s+--wait\s/m);
    expect(entry(text, '--wait-replicas')).toMatch(/Redis WAIT/);
    expect(entry(text, '--concurrency')).toMatch(/sub-workers of the in-process pool .*\[default: "4"\]/);

    const demo = AppProcess.start('demo', ['3', '--no-wait']);
    const exit = await demo.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 2, signal: null });
    expect(demo.stderr).toMatch(/Unknown argument: wait/);
  });

  it('producer: Redis defaults to $REDIS_URL or 127.0.0.1:6379, task ids to task_<run>_, and it has --no-wait', async () => {
    const text = await help('producer');
    expect(entry(text, '--redis')).toMatch(/\[default: \$REDIS_URL, else redis:\/\/127\.0\.0\.1:6379\]/);
    expect(entry(text, '--id-prefix')).toMatch(/\[default: "task_<run>_"/);
    expect(entry(text, '--wait')).toMatch(/--no-wait: enqueue and exit/);
  });

  it('worker: lists --concurrency <n>, the form docker/Dockerfile uses', async () => {
    const text = await help('worker');
    expect(text).toMatch(/^worker \[concurrency\] \[options\]/);
    expect(entry(text, 'concurrency')).toMatch(/sub-workers in this process; also as --concurrency <n> .*\[default: "4"\]/);
    for (const flag of ['--grace-ms', '--heartbeat-ms', '--stale-after-ms', '--retention-max-age-ms', '--retention-max-count', '--dead-max', '--redis', '--queue', '--log-level', '--connect-timeout-ms']) {
      expect(entry(text, flag)).not.toBe('');
    }
  });
});

describe('taskq --help', () => {
  it('lists every command, and each command and group has its --help with the exit codes', async () => {
    const text = await help('cli');
    expect(text).toMatch(/^taskq <command> \[options\]/);
    for (const cmd of ['stats', 'queue', 'task', 'dead', 'enqueue <type> <payload>', 'watch', 'flow']) expect(text).toContain(`taskq ${cmd} `);
    expect(entry(text, '--redis')).toMatch(/\[default: \$REDIS_URL, else redis:\/\/127\.0\.0\.1:6379\]/);
    for (const flag of ['--json', '--prefix', '--connect-timeout-ms', '--log-level']) expect(entry(text, flag)).not.toBe('');
    const codes = /Exit codes:\n {2}0 {2}done\n {2}1 {2}failure: .*\n {2}2 {2}bad arguments: .*\n {2}3 {2}not found: .*/;
    expect(text).toMatch(codes);
    for (const args of [
      ['stats'], ['queue'], ['queue', 'ls'], ['queue', 'pause'], ['queue', 'resume'], ['queue', 'purge'],
      ['task'], ['task', 'ls'], ['task', 'show'], ['task', 'cancel'], ['task', 'retry'],
      ['dead'], ['dead', 'ls'], ['dead', 'requeue'], ['enqueue'], ['watch'],
      ['flow'], ['flow', 'ls'], ['flow', 'show'], ['flow', 'cancel'],
    ]) {
      const proc = AppProcess.start('cli', [...args, '--help']);
      const exit = await proc.waitForExit(10_000);
      expect({ args, code: exit.code, stderr: proc.stderr }).toEqual({ args, code: 0, stderr: '' });
      const out = proc.stdoutLines.join('\n');
      expect(out).toMatch(new RegExp(`^taskq ${args.join(' ')}`));
      expect(out).toMatch(codes);
    }
  });
});

describe('the worker commands docker/ and the Kubernetes manifest type', () => {
  it.each<[string, () => string[], number]>([
    ['docker/Dockerfile CMD', () => withoutMetricsPort(jsonArrayAfter('docker/Dockerfile', 'CMD')), 2],
    ['docker/compose.yml worker command', () => withoutMetricsPort(jsonArrayAfter('docker/compose.yml', 'command:', 'apps/worker/dist/main.js')), 2],
    ['docker/k8s/worker-deployment.yaml taskq-worker command + args', () => manifestCommand('taskq-worker'), 4],
    ['docker/k8s/worker-deployment.yaml taskq-worker-batch command + args', () => manifestCommand('taskq-worker-batch'), 2],
  ])('%s starts a worker with the stated sub-workers', async (_, command, concurrency) => {
    const [node, script, ...args] = command();
    expect([node, script]).toEqual(['node', 'apps/worker/dist/main.js']);
    // the manifest names the queue `default`: a server of this test's own
    const server = await startRedisServer();
    servers.push(server);
    const worker = AppProcess.start('worker', args, { env: { REDIS_URL: server.url } });
    const ready = await worker.waitForLine(line.poolReady, 'the pool-ready line');
    expect(ready['concurrency']).toBe(concurrency);
    worker.signal('SIGTERM');
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });
});

describe('worker --concurrency', () => {
  it('given with the positional and a different value: exit 2 with the usage, nothing started', async () => {
    const worker = AppProcess.start('worker', ['3', '--concurrency', '2', '--redis', testRedisUrl(), '--queue', newQueueName('twice')]);
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 2, signal: null });
    expect(worker.stderr).toContain('worker [concurrency] [options]');
    expect(worker.stderr).toContain('concurrency given twice: "3" and --concurrency "2"');
    expect(worker.stdoutLines).toEqual([]);
  });

  it.each([
    ['--concurrency 0', ['--concurrency', '0']],
    ['--concurrency=abc', ['--concurrency=abc']],
  ])('%s: exit 2 naming --concurrency', async (_, flag) => {
    const worker = AppProcess.start('worker', [...flag, '--redis', testRedisUrl(), '--queue', newQueueName('bad-flag')]);
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 2, signal: null });
    expect(worker.stderr).toMatch(/--concurrency must be a whole number >= 1, got "(0|abc)"/);
  });
});
