#!/usr/bin/env node
// `npm run test:docker`: the image and docker/compose.yml, run for real.
//
//  1. base images: docker/base-images.sh (debootstrap + this machine's node,
//     and Debian's redis-server), built only when their tag is missing;
//  2. docker build with the local base as NODE_IMAGE; the image's user, command,
//     stop signal and HEALTHCHECK;
//  3. docker-compose up (a project of its own, ports any free ones): Redis, a
//     worker of 2 sub-workers, the API, each healthy; PID 1 is node, uid 1000;
//     the API answers /healthz and serves the dashboard;
//  4. a task of 8 s that blocks the worker's event loop runs once, its
//     heartbeats fresh meanwhile (the heartbeat thread is in the image); the
//     README's producer on the host: 20 tasks, all Done;
//  5. `docker-compose stop worker` while 2 tasks of 60 s run: exit 0 before
//     compose's SIGKILL (30 s), both tasks Queued again in Redis;
//  6. `docker-compose down --volumes`: no container, network or volume left.
// The README's Docker commands are among those run, literally, in one bash
// (so `eval` and `export` carry over); a last check says so. One line per
// check (`ok` or `FAIL`), then a total; exits 1 on any failure. Needs a
// running Docker engine and docker-compose; .ci/run installs and starts them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Shell } from './docker-shell.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const Redis = require('ioredis');

/** The README's commands (## Docker), exactly as it shows them. */
const CMD = {
  base: 'eval "$(docker/base-images.sh)"',
  build: 'docker build -f docker/Dockerfile --build-arg NODE_IMAGE="$TASKQ_NODE_IMAGE" -t taskq:local .',
  tokens: 'export TASKQ_API_ADMIN_TOKENS="$(openssl rand -hex 24)" TASKQ_API_READ_TOKENS="$(openssl rand -hex 24)"',
  up: 'docker-compose -f docker/compose.yml up -d --no-build',
  ps: 'docker-compose -f docker/compose.yml ps',
  producerBuild: 'npx nx run producer:build',
  produce: 'node apps/producer/dist/main.js 20 --min-ms 200 --max-ms 1000 --redis "redis://$(docker-compose -f docker/compose.yml port redis 6379)"',
  health: 'curl -fsS "http://$(docker-compose -f docker/compose.yml port api 8080)/healthz"',
  stop: 'docker-compose -f docker/compose.yml stop worker',
  down: 'docker-compose -f docker/compose.yml down --volumes',
};
const COMPOSE = 'docker-compose -f docker/compose.yml';
/** compose.yml's stop_grace_period for the worker and the worker's --grace-ms there. */
const STOP_GRACE_S = 30;
const WORKER_GRACE_S = 25;
const QUEUE = 'default';
/** Key names as libs/queue/src/keys.ts makes them with the default prefix. */
const key = (name) => `taskq:{${QUEUE}}:${name}`;

const project = `taskq-test-docker-${process.pid}-${Date.now().toString(36)}`;
const env = { ...process.env, COMPOSE_PROJECT_NAME: project, NX_DAEMON: 'false' };
for (const name of ['TASKQ_REDIS_PORT', 'TASKQ_API_PORT', 'TASKQ_NODE_IMAGE', 'TASKQ_REDIS_IMAGE', 'TASKQ_API_ADMIN_TOKENS', 'TASKQ_API_READ_TOKENS']) delete env[name];

const started = performance.now();
const results = [];
const ran = new Set();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const indent = (text) => text.trimEnd().split('\n').map((l) => `      ${l}`).join('\n');

/** Runs one check: `fn` returns a detail for the summary line or throws. */
async function check(name, fn) {
  const t0 = performance.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok    ${name}${detail ? ` — ${detail}` : ''} (${seconds(performance.now() - t0)})`);
    return true;
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name} (${seconds(performance.now() - t0)})`);
    console.log(indent(err instanceof Error ? err.message : String(err)));
    return false;
  }
}

const shell = new Shell({ cwd: ROOT, env });

/** Runs a command in the shell; a non-zero exit is an error with the output. Resolves with the output and the time. */
async function sh(command, timeoutMs = 60_000) {
  const r = await shell.run(command, timeoutMs);
  if (Object.values(CMD).includes(command)) ran.add(command);
  if (r.code !== 0) throw new Error(`exited with ${r.code}: ${command}\n${r.out.split('\n').slice(-40).join('\n')}`);
  return r;
}

/** Polls `probe` until it returns a value other than undefined; on timeout the error says what it last saw. */
async function waitFor(what, probe, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const containerId = async (service) => (await sh(`${COMPOSE} ps -q ${service}`)).out.trim();
const inspect = async (id) => JSON.parse((await sh(`docker inspect ${id}`)).out)[0];
const logs = async (id) => (await sh(`docker logs ${id}`)).out;
/** The worker's JSON log lines. */
const logLines = (text) => text.split('\n').flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });

let redis;
let composeUp = false;
let buildOutput = '';
/** Whatever failed, the project goes: containers, network, volume. */
function removeProject() {
  if (!composeUp) return;
  composeUp = false;
  spawnSync('docker-compose', ['-f', 'docker/compose.yml', 'down', '--volumes', '--remove-orphans', '--timeout', '1'], { cwd: ROOT, env, stdio: 'ignore' });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`\n${signal}: removing compose project ${project}`);
    shell.kill();
    removeProject();
    process.exit(130);
  });
}
try {
  await main();
} finally {
  redis?.disconnect();
  shell.kill();
  removeProject();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`\ntest:docker: ${results.length - failed} passed, ${failed} failed (${seconds(performance.now() - started)})`);
process.exit(failed > 0 ? 1 : 0);

async function main() {
  const engine = await check('Docker engine and docker-compose', async () => {
    const server = (await sh("docker version --format '{{.Server.Version}}'")).out.trim();
    const compose = (await sh('docker-compose version --short')).out.trim();
    return `engine ${server}, docker-compose ${compose}, project ${project}`;
  });
  if (!engine) return;

  const base = await check('base images (docker/base-images.sh)', async () => {
    const r = await sh(CMD.base, 300_000);
    const images = (await sh('printf "%s %s" "$TASKQ_NODE_IMAGE" "$TASKQ_REDIS_IMAGE"')).out.trim();
    if (!/^taskq-node:\S+ taskq-redis:\S+$/.test(images)) throw new Error(`TASKQ_NODE_IMAGE/TASKQ_REDIS_IMAGE not set: "${images}"\n${r.out}`);
    return `${images.replace(' ', ', ')}: ${r.out.includes('nothing to build') ? 'present' : `built in ${seconds(r.ms)}`}`;
  });
  if (!base) return;

  const built = await check('docker build (NODE_IMAGE = the local base)', async () => {
    const r = await sh(CMD.build, 300_000);
    const size = Number((await sh("docker image inspect taskq:local --format '{{.Size}}'")).out.trim());
    const cached = (r.out.match(/Using cache/g) ?? []).length;
    buildOutput = r.out;
    return `build ${seconds(r.ms)} (${cached} steps from cache), image ${(size / 1e6).toFixed(0)} MB`;
  });
  if (!built) return;

  await check('untagged images of earlier taskq builds removed (the stages of this build stay: the next build\'s cache)', async () => {
    // the classic builder prints " ---> <id>" for every image a step makes or takes from the cache
    const thisBuild = new Set([...buildOutput.matchAll(/ ---> ([0-9a-f]{12})\b/g)].map((m) => m[1]));
    const dangling = (await sh("docker images --filter dangling=true --filter label=org.opencontainers.image.title=taskq --format '{{.ID}}'")).out.split('\n').filter(Boolean);
    const old = dangling.filter((id) => !thisBuild.has(id));
    if (old.length) await sh(`docker rmi ${old.join(' ')}`);
    return `${old.length} removed, ${dangling.length - old.length} kept`;
  });

  await check('image: user node (uid 1000), node as PID 1 in exec form, SIGTERM, HEALTHCHECK on the worker\'s /healthz, runtime files', async () => {
    const config = (await inspect('taskq:local')).Config;
    const problems = [];
    if (config.User !== 'node') problems.push(`User is "${config.User}", not node`);
    if (config.Entrypoint?.length) problems.push(`an Entrypoint (${JSON.stringify(config.Entrypoint)}) stands before node`);
    if (config.Cmd?.[0] !== 'node') problems.push(`Cmd ${JSON.stringify(config.Cmd)} does not start with node (exec form)`);
    if (!config.Cmd?.includes('--metrics-port')) problems.push('Cmd has no --metrics-port, so the health check has nothing to ask');
    if (config.StopSignal !== 'SIGTERM') problems.push(`StopSignal ${config.StopSignal}`);
    const test = config.Healthcheck?.Test ?? [];
    if (test[0] !== 'CMD' || test[1] !== 'node' || !test.join(' ').includes('127.0.0.1:9464/healthz')) problems.push(`Healthcheck ${JSON.stringify(test)}`);
    if (problems.length) throw new Error(problems.join('\n'));
    const files = ['libs/worker-pool/threads/heartbeat.cjs', 'apps/api/dashboard/index.html', 'libs/recorder/lua/record.lua'];
    const r = await sh(`docker run --rm taskq:local sh -c 'id -u && ls ${files.join(' ')}'`);
    if (r.out.split('\n')[0] !== '1000') throw new Error(`id -u in the image: ${r.out}`);
    return `Cmd ${config.Cmd.join(' ')}; ${files.join(', ')} present`;
  });

  const producerBuilt = await check('the producer built on the host', async () => `${seconds((await sh(CMD.producerBuild, 180_000)).ms)}`);
  if (!producerBuilt) return;

  composeUp = true;
  const up = await check('docker-compose up: Redis, worker (2 sub-workers), API, each healthy', async () => {
    await sh(CMD.tokens);
    const r = await sh(CMD.up, 120_000);
    const services = ['redis', 'worker', 'api'];
    const ids = {};
    for (const s of services) ids[s] = await containerId(s);
    const t0 = performance.now();
    await waitFor('redis, worker and api healthy', async () => {
      const states = [];
      for (const s of services) states.push(`${s} ${(await inspect(ids[s])).State.Health?.Status ?? 'no health check'}`);
      if (states.every((s) => s.endsWith(' healthy'))) return true;
      throw new Error(states.join(', '));
    }, 90_000);
    const ready = logLines(await logs(ids.worker)).find((l) => typeof l.concurrency === 'number');
    if (ready?.concurrency !== 2) throw new Error(`the worker's pool-ready line says concurrency ${ready?.concurrency}`);
    console.log(indent((await sh(CMD.ps)).out));
    return `up in ${seconds(r.ms)}, all healthy ${seconds(performance.now() - t0)} later; the worker runs 2 sub-workers`;
  });
  if (!up) return;

  await check('worker and API containers: PID 1 is node, uid 1000', async () => {
    const out = [];
    for (const service of ['worker', 'api']) {
      const r = await sh(`${COMPOSE} exec -T ${service} sh -c 'id -u; tr "\\0" " " </proc/1/cmdline'`);
      const [uid, cmdline] = r.out.trim().split('\n');
      if (uid !== '1000' || !cmdline?.startsWith('node apps/')) throw new Error(`${service}: uid ${uid}, PID 1 ${cmdline}`);
      out.push(`${service}: ${cmdline.trim()}`);
    }
    return out.join('; ');
  });

  await check('API: /healthz from the host (its container\'s health check asks the same), the dashboard, /queues with the read token', async () => {
    const health = (await sh(CMD.health)).out.trim();
    const address = (await sh(`${COMPOSE} port api 8080`)).out.trim();
    const token = (await sh('printf %s "$TASKQ_API_READ_TOKENS"')).out;
    const page = await fetch(`http://${address}/`);
    const html = await page.text();
    if (page.status !== 200 || !html.includes('<html')) throw new Error(`GET / answered ${page.status}: ${html.slice(0, 200)}`);
    const queues = await fetch(`http://${address}/queues`, { headers: { authorization: `Bearer ${token}` } });
    if (queues.status !== 200) throw new Error(`GET /queues answered ${queues.status}`);
    return `${address}: /healthz ${health}; / ${html.length} bytes of HTML; /queues 200`;
  });

  const redisAddress = (await sh(`${COMPOSE} port redis 6379`)).out.trim();
  redis = new Redis(`redis://${redisAddress}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const records = async () => Object.entries(await redis.hgetall(key('status'))).map(([id, json]) => ({ ...JSON.parse(json), id }));

  await check('a task of 8 s that blocks the event loop (spin) runs once: the heartbeat thread keeps beating', async () => {
    // Enqueued with the ops CLI inside the worker's container. Without
    // threads/heartbeat.cjs in the image the worker falls back to beating
    // from its main thread, which a spinning handler blocks: the consumer's
    // heartbeat then ages past --stale-after-ms (5 s) and any other worker's
    // janitor takes the task back and runs it again.
    await sh(`${COMPOSE} exec -T worker node apps/cli/dist/main.js enqueue spin '{"ms":8000}' --id spin_1`);
    let maxAgeMs = 0;
    let polls = 0;
    const record = await waitFor('spin_1 Done', async () => {
      const [[, time], [, beats]] = await redis.multi().time().zrange(key('consumers'), 0, -1, 'WITHSCORES').exec();
      const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      for (let i = 1; i < beats.length; i += 2) maxAgeMs = Math.max(maxAgeMs, now - Number(beats[i]));
      polls++;
      const status = await redis.hget(key('status'), 'spin_1');
      const r = status ? JSON.parse(status) : undefined;
      if (r?.status === 'Done') return r;
      throw new Error(`spin_1: ${status}`);
    }, 60_000);
    const workerLog = logLines(await logs(await containerId('worker')));
    const starts = workerLog.filter((l) => l.msg === 'START spin_1').length;
    const threadErrors = workerLog.filter((l) => /heartbeat thread/.test(l.msg ?? '')).map((l) => l.msg);
    const recovered = await redis.hkeys(key('recoveries'));
    const problems = [];
    if (record.attempt !== 1 || starts !== 1) problems.push(`Done on attempt ${record.attempt}, started ${starts} time(s)`);
    if (maxAgeMs >= 5000) problems.push(`the worker's heartbeat aged ${maxAgeMs} ms while the task ran (stale after 5000)`);
    if (threadErrors.length) problems.push(`the worker logged: ${threadErrors.join('; ')}`);
    if (recovered.length) problems.push(`the janitor took back ${recovered.join(', ')}`);
    if (problems.length) throw new Error(problems.join('\n'));
    return `spin_1 Done on attempt 1, started once; the oldest heartbeat seen while it ran: ${maxAgeMs} ms (${polls} polls; stale after 5000)`;
  });

  await check('the README\'s producer on the host: 20 tasks, 20 Done', async () => {
    const r = await sh(CMD.produce, 120_000);
    const mine = (await records()).filter((t) => t.id !== 'spin_1');
    const done = mine.filter((t) => t.status === 'Done').length;
    if (mine.length !== 20 || done !== 20) throw new Error(`${done}/${mine.length} Done in Redis\n${r.out}`);
    const summary = logLines(r.out).find((l) => l.summary)?.msg;
    return `${done}/20 Done in Redis; the producer exited 0 after ${seconds(r.ms)}: "${summary}"`;
  });

  await check(`docker-compose stop worker with 2 tasks of 60 s running: exit 0 within ${STOP_GRACE_S} s, both back in the queue`, async () => {
    const workerId = await containerId('worker');
    await sh(`node apps/producer/dist/main.js 2 --no-wait --min-ms 60000 --max-ms 60000 --id-prefix stop_ --redis "redis://${redisAddress}"`);
    const running = await waitFor('both stop_ tasks InProgress', async () => {
      const stops = (await records()).filter((t) => t.id.startsWith('stop_'));
      if (stops.length === 2 && stops.every((t) => t.status === 'InProgress')) return stops.map((t) => t.id);
      throw new Error(JSON.stringify(stops));
    }, 20_000);
    const r = await sh(CMD.stop, (STOP_GRACE_S + 30) * 1000);
    const state = (await inspect(workerId)).State;
    const stopped = logLines(await logs(workerId)).find((l) => /^stopped: /.test(l.msg ?? ''));
    const after = (await records()).filter((t) => running.includes(t.id));
    const ready = await redis.lrange(key('ready'), 0, -1);
    const prioritized = await redis.zrange(key('prioritized'), 0, -1);
    const returned = running.filter((id) => ready.includes(id) || prioritized.includes(id));
    const processing = await redis.keys(key('processing:*'));
    const consumers = await redis.zcard(key('consumers'));
    const problems = [];
    if (state.Running || state.ExitCode !== 0 || state.OOMKilled) problems.push(`the worker's container: ${JSON.stringify(state)}`);
    if (r.ms >= STOP_GRACE_S * 1000) problems.push(`stop took ${seconds(r.ms)}: compose's SIGKILL came first`);
    if (!stopped) problems.push('no "stopped:" line in the worker\'s log');
    if (after.some((t) => t.status !== 'Queued') || returned.length !== 2) problems.push(`after the stop: ${JSON.stringify(after)}; ready ${JSON.stringify(ready)}, prioritized ${JSON.stringify(prioritized)}`);
    if (processing.length || consumers) problems.push(`left in Redis: ${processing.join(', ')} ${consumers} consumer(s)`);
    if (problems.length) throw new Error(problems.join('\n'));
    return `exit ${state.ExitCode} after ${seconds(r.ms)} (the worker's grace ${WORKER_GRACE_S} s, SIGKILL at ${STOP_GRACE_S} s); "${stopped.msg}"; ${returned.length}/2 tasks Queued again (${returned.join(', ')}), no processing list or consumer left`;
  });

  await check('docker-compose down --volumes: no container, network or volume of the project left', async () => {
    await redis.quit();
    redis = undefined;
    const r = await sh(CMD.down, 60_000);
    composeUp = false;
    const left = [];
    for (const kind of ['container', 'network', 'volume']) {
      const list = kind === 'container' ? 'ps -a' : `${kind} ls`;
      const out = (await sh(`docker ${list} -q --filter label=com.docker.compose.project=${project}`)).out.trim();
      if (out) left.push(`${kind}s: ${out.split('\n').join(' ')}`);
    }
    if (left.length) throw new Error(`left behind: ${left.join('; ')}`);
    return `down in ${seconds(r.ms)}`;
  });

  await check('every command of the README\'s Docker section ran here, literally', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /^## Docker\n([\s\S]*?)^## /m.exec(readme)?.[1];
    if (!section) throw new Error('README.md has no "## Docker" section');
    const commands = [...section.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)].flatMap((m) => m[1].split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const notRun = commands.filter((c) => !ran.has(c));
    if (commands.length === 0) throw new Error('no ```sh block in the Docker section');
    if (notRun.length) throw new Error(`not run by this test:\n${notRun.join('\n')}`);
    return `${commands.length} commands`;
  });
}
