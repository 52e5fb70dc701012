import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { freePort, startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { evalValueLocation, flagValue, isApi, isWorker, loadManifests, mainContainer, REPO_ROOT, valueLocationQueue, withFlag } from './manifests';

// Each Deployment's container as written (its command and args, its env from
// the example Secrets, with the Redis URL pointing at a throwaway
// redis-server), on a free port instead of the declared one: the apps accept
// the args, answer on the probes' paths, the API takes the read token the
// scaler sends and its GET /queues has what the scaler's valueLocation reads,
// and a worker stops within its terminationGracePeriodSeconds.

const models = loadManifests().map((m) => m.model);
const deployments = models.filter((m): m is Deployment => m instanceof Deployment);
const scaledObjects = models.filter((m): m is ScaledObject => m instanceof ScaledObject);
const secretValues = new Map<string, string>(
  models
    .filter((m): m is Secret => m instanceof Secret)
    .flatMap((s) => Object.entries(s.stringData ?? {}).map(([k, v]) => [`${s.metadata?.name}/${k}`, v] as const)),
);

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  output: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Starts a Deployment's container with its command, args (the port flag set to a free port) and env (Secrets resolved). */
async function run(d: Deployment, portFlag: string, redisUrl: string): Promise<Running> {
  const c = mainContainer(d);
  const [node, ...script] = c.command ?? [];
  expect(node).toBe('node');
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const key = ref === undefined ? undefined : `${ref.name}/${ref.key}`;
    env[e.name] = key === 'taskq-redis/url' ? redisUrl : key !== undefined ? (secretValues.get(key) ?? '') : (e.value ?? '');
  }
  // never the shared Redis: the app would fall back to 127.0.0.1:6379 without REDIS_URL
  expect(env['REDIS_URL']).toBe(redisUrl);
  const port = await freePort();
  const child = spawn(process.execPath, [...script, ...withFlag(c.args ?? [], portFlag, String(port))], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Running = { child, port, output: '' };
  child.stdout?.on('data', (b: Buffer) => (r.output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (r.output += b.toString()));
  child.on('exit', (code, signal) => (r.exit = { code, signal }));
  running.push(r);
  return r;
}

async function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}

/** Polls until the path answers 200 (the process may still be starting); fails early if the process ended. */
async function until200(r: Running, path: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    if (r.exit !== undefined) throw new Error(`the process ended (${JSON.stringify(r.exit)}) before ${path} answered 200:\n${r.output}`);
    try {
      const res = await get(r.port, path);
      if (res.status === 200) return;
      last = `${res.status} ${res.body}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${path} did not answer 200 within ${timeoutMs} ms (last: ${last}):\n${r.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(r: Running, withinMs: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const exited = r.exit !== undefined ? Promise.resolve() : new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
  r.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]).finally(() => clearTimeout(timer));
  if (r.exit === undefined) r.child.kill('SIGKILL');
  return { code: r.exit?.code ?? null, ms: Date.now() - started };
}

const running: Running[] = [];
let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterAll(async () => {
  for (const r of running) if (r.exit === undefined) r.child.kill('SIGKILL');
  redis?.disconnect();
  await server?.stop();
});

test('the API container as written: probes answer, the scaler\'s token and valueLocation read every ready task, the list trigger only the default priority', async () => {
  const d = deployments.find(isApi) as Deployment;
  const api = await run(d, 'port', server.url);
  const c = mainContainer(d);
  await until200(api, c.readinessProbe?.httpGet?.path ?? '(none)');
  expect((await get(api.port, c.livenessProbe?.httpGet?.path ?? '(none)')).status).toBe(200);

  const admin = secretValues.get('taskq-api-tokens/admin');
  const read = secretValues.get('taskq-api-tokens/read');
  for (const so of scaledObjects) {
    for (const t of so.spec?.triggers ?? []) {
      if (t.type !== 'metrics-api') continue;
      const queue = valueLocationQueue(t.metadata['valueLocation'] ?? '') ?? '';
      // one task of the default priority (the ready list) and one of priority 9 (the prioritized set)
      const res = await fetch(`http://127.0.0.1:${api.port}/queues/${queue}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify([{ type: 'sleep', payload: { ms: 1 } }, { type: 'sleep', payload: { ms: 1 }, priority: 9 }]),
      });
      expect([queue, res.status]).toEqual([queue, 201]);
      const url = new URL(t.metadata['url'] ?? '');
      const queues = await get(api.port, url.pathname, read);
      expect(queues.status).toBe(200);
      expect([queue, evalValueLocation(t.metadata['valueLocation'] ?? '', JSON.parse(queues.body))]).toEqual([queue, 2]);
      const listTrigger = so.spec?.triggers.find((x) => x.type === 'redis' && x.metadata['listName']?.includes(`{${queue}}`));
      expect([queue, await redis.llen(listTrigger?.metadata['listName'] ?? '')]).toEqual([queue, 1]);
    }
  }
  // without the token, no count: the TriggerAuthentication is needed
  expect((await get(api.port, '/queues')).status).toBe(401);
  const stopped = await stop(api, (d.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
  expect(stopped.code).toBe(0);
});

test.each(deployments.filter(isWorker).map((d) => [d.metadata?.name, d] as const))(
  '%s as written: probes answer, it runs its queues\' tasks (the ScaledObject\'s queues), and stops within terminationGracePeriodSeconds',
  async (_name, d) => {
    const c = mainContainer(d);
    const so = scaledObjects.find((s) => s.spec?.scaleTargetRef.name === d.metadata?.name);
    const queues = (so?.spec?.triggers ?? []).map((t) => valueLocationQueue(t.metadata['valueLocation'] ?? '')).filter((q): q is string => q !== undefined);
    expect(queues.length).toBeGreaterThan(0);
    const ready = async (): Promise<number[]> => Promise.all(queues.map(async (q) => (await redis.llen(`taskq:{${q}}:ready`)) + (await redis.zcard(`taskq:{${q}}:prioritized`))));
    // the API test left two tasks in each
    expect(await ready()).toEqual(queues.map(() => 2));
    const worker = await run(d, 'metrics-port', server.url);
    await until200(worker, c.readinessProbe?.httpGet?.path ?? '(none)');
    expect(await get(worker.port, c.livenessProbe?.httpGet?.path ?? '(none)')).toEqual({ status: 200, body: 'ok\n' });
    // what the API test enqueued into this Deployment's queues gets done: the worker serves the queues its ScaledObject counts
    const deadline = Date.now() + 15_000;
    for (;;) {
      const left = await ready();
      if (left.every((n) => n === 0)) break;
      if (Date.now() > deadline) throw new Error(`tasks still ready in ${queues.join(', ')}: ${left.join(', ')}\n${worker.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const periodMs = (d.spec?.template.spec?.terminationGracePeriodSeconds ?? 0) * 1000;
    const stopped = await stop(worker, periodMs);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(Number(flagValue(c.args ?? [], 'grace-ms')));
  },
);
