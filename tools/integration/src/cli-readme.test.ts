import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chain, Flows, group } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { descendants, killAllShellCommands, ShellCommand, WORKSPACE_ROOT } from './test-support/shell-command';
import { waitUntil } from './test-support/wait';

// The README's "Ops CLI (`taskq`)" commands, typed as a person types them
// (`sh -c`, the real `npm run` and `npx nx`), on a redis-server of this test's
// own (they name the queue `default`), with a worker running: every command
// the section shows is run here literally, and the test fails if the section
// shows one it does not run.

const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllShellCommands();
  await killAllApps();
  for (const server of servers.splice(0)) await server.stop();
});

/** The commands the README's Ops CLI section shows (its bash block, and the `$ …` lines of its output examples). */
function readmeCommands(): string[] {
  const readme = readFileSync(join(WORKSPACE_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Ops CLI (`taskq`)');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const commands = new Set<string>();
  for (const block of section.matchAll(/```(?:bash|text)\n([\s\S]*?)```/g)) {
    for (const l of (block[1] ?? '').split('\n')) {
      const cmd = l.replace(/^\$ /, '');
      if (/^(npm run (-s )?taskq|npx nx run cli:serve)\b/.test(cmd)) commands.add(cmd);
    }
  }
  return [...commands];
}

describe("the README's Ops CLI commands", () => {
  it('run as typed: stats, queue ls, watch, enqueue, task ls/show/retry/cancel, pause/resume, dead ls/requeue, --json, flow ls/show/cancel, purge', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const env = { REDIS_URL: server.url };
    const ran = new Set<string>();
    const run = async (cmd: string, expected: RegExp): Promise<string> => {
      const proc = ShellCommand.run(cmd, { env });
      const exit = await proc.waitForExit(90_000);
      ran.add(cmd);
      expect({ cmd, code: exit.code, output: proc.output }).toEqual({ cmd, code: 0, output: expect.stringMatching(expected) as unknown });
      return proc.output;
    };
    const start = (cmd: string): ShellCommand => {
      ran.add(cmd);
      return ShellCommand.run(cmd, { env });
    };

    await run('npm run taskq -- stats', /no queues/);
    const watch = start('npm run taskq -- watch');
    const watchSilent = start('npm run -s taskq -- watch');
    for (const w of [watch, watchSilent]) await w.waitForOutput(/watching taskq:\{\*\}:events, every queue \(Ctrl-C to stop\)/, 'watch subscribed');
    const worker = AppProcess.start('worker', ['2'], { env });
    await worker.waitForLine(line.poolReady, 'the pool-ready line');

    const time = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
    await run(`npm run taskq -- enqueue sleep '{"ms":5000}' --id task_1`, /^task_1$/m);
    await watch.waitForOutput(new RegExp(`^${time} default task_1 InProgress worker-\\d+-\\d attempt 1$`, 'm'), 'task_1 InProgress');
    await run('npm run taskq -- task ls default --status InProgress', /^task_1 +sleep +InProgress +1\/3 +\S+ +\{"ms":5000\} +worker-\d+-\d$/m);
    await run(`npm run taskq -- enqueue sleep '{"ms":1,"failAttempts":9}' --id task_2 --max-attempts 1`, /^task_2$/m);
    await watch.waitForOutput(new RegExp(`^${time} default task_2 Dead worker-\\d+-\\d attempt 1: planned failure`, 'm'), 'task_2 Dead');
    await run(`npm run taskq -- enqueue sleep '{"ms":100}' --id task_3 --delay-ms 60000`, /^task_3$/m);
    await watch.waitForOutput(new RegExp(`^${time} default task_3 Delayed attempt 0 due ${time}$`, 'm'), 'task_3 Delayed');
    await run('npm run taskq -- queue ls', /^QUEUE +WORKERS +PAUSED\ndefault +1 +no$/m);
    await run('npx nx run cli:serve --args="task show default task_1"', /^status: +(InProgress|Done)$[\s\S]*^payload: +\{"ms":5000\}$/m);

    await run('npm run taskq -- queue pause default --reason deploy', /^queue default paused \(deploy\): workers take no task from it until it is resumed$/m);
    await watch.waitForOutput(new RegExp(`^${time} default queue paused: deploy$`, 'm'), 'the pause');
    await run('npm run taskq -- queue resume default', /^queue default resumed$/m);
    await watch.waitForOutput(new RegExp(`^${time} default queue resumed$`, 'm'), 'the resume');

    await run('npm run taskq -- dead ls default', /^task_2 +sleep +Dead +1\/1 +\S+ +\{"ms":1,"failAttempts":9\} +planned failure of attempt 1 \(fails 9\)/m);
    await run('npm run -s taskq -- dead ls default', /^ID +TYPE +STATUS +ATTEMPT +SINCE +PAYLOAD +INFO\ntask_2 +sleep +Dead/);
    await run('npm run -s taskq -- task show default task_2', /^id: +task_2\nqueue: +default\ntype: +sleep\nstatus: +Dead\n[\s\S]*^history: +1 failed attempt\(s\)\n {2}attempt 1 at \S+ on worker-\d+-\d: planned failure of attempt 1 \(fails 9\)$/m);
    await run('npm run taskq -- task retry default task_2', /^task task_2 requeued \(was Dead\); attempts start over$/m);
    await watch.waitForOutput(new RegExp(`(task_2 Dead[\\s\\S]*){2}`), 'task_2 Dead again (it fails every attempt)');
    // once, though the worker fails task_2 again at once (requeueAllDead used to requeue and count it again)
    await run('npm run taskq -- dead requeue default --all', /^requeued 1 dead task\(s\) of queue default$/m);
    await run('npm run taskq -- task cancel default task_3', /^task task_3 cancelled$/m);
    await watch.waitForOutput(new RegExp(`^${time} default task_3 Cancelled attempt 0: cancelled with taskq task cancel$`, 'm'), 'task_3 Cancelled');
    await run('npm run taskq -- task ls default --status Cancelled', /^ID +TYPE +STATUS +ATTEMPT +SINCE +PAYLOAD +INFO\ntask_3 +sleep +Cancelled +0\/3 +\S+ +\{"ms":100\} +cancelled with taskq task cancel$/m);

    await watch.waitForOutput(new RegExp(`^${time} default task_1 Done worker-\\d+-\\d attempt 1$`, 'm'), 'task_1 Done', 15_000);
    await run('npm run -s taskq -- stats', /^QUEUE +READY +DELAYED +IN PROGRESS +DEAD +FAILED +FINISHED +WORKERS +PAUSED +OLDEST READY\ndefault +\d+ +0 +\d+ +\d+ +0 +2 +1 +no +\S+\n$/);
    const json = await run('npm run -s taskq -- stats --json', /^\{.*\}\n$/);
    expect(JSON.parse(json)).toEqual({
      queues: [expect.objectContaining({ queue: 'default', delayed: 0, failed: 0, finished: 2, workers: 1, paused: false })],
    });

    // flows (added with the library, as the README's Flows section does): report-1 runs to its end, report-2 waits an hour
    const flows = new Flows({ connection: server.url });
    try {
      await flows.add(
        chain({ name: 'fetch', type: 'sleep', payload: { ms: 20 } }, group({ name: 'pdf', type: 'sleep', payload: { ms: 30 } }, { name: 'html', type: 'sleep', payload: { ms: 10 } }), { name: 'mail', type: 'sleep', payload: { ms: 1 } }),
        { id: 'report-1' },
      );
      await flows.add(chain({ name: 'later', type: 'sleep', delayMs: 3_600_000 }, { name: 'then', type: 'sleep' }), { id: 'report-2' });
      await waitUntil(async () => (await flows.get('report-1'))?.status === 'FlowDone', { what: 'report-1 FlowDone', timeoutMs: 15_000 });
      await run('npm run taskq -- flow ls', /^ID +STATUS +PROGRESS +FAILED +CANCELLED +CREATED +ENDED +REASON\nreport-2 +FlowRunning +0\/2 +0 +0 +\S+Z +-\nreport-1 +FlowDone +4\/4 +0 +0 +\S+Z +\S+Z\n/m);
      await run('npm run taskq -- flow show report-1', /^status: +FlowDone$[\s\S]*^progress: +4\/4 steps done \(0 failed, 0 cancelled\)$[\s\S]*^mail +default +report-1:mail +Done +pdf,html +\{"sleptMs":1,"totalMs":81\}$/m);
      await run(
        'npm run -s taskq -- flow show report-1',
        /^id: +report-1\nstatus: +FlowDone\npolicy: +failFast\nprogress: +4\/4 steps done \(0 failed, 0 cancelled\)\ncreated: +\S+Z\nended: +\S+Z\nSTEP +QUEUE +TASK +STATUS +WAITS FOR +RESULT\/ERROR\nfetch +default +report-1:fetch +Done +- +\{"sleptMs":20,"totalMs":20\}\npdf +default +report-1:pdf +Done +fetch +\{"sleptMs":30,"totalMs":50\}\nhtml +default +report-1:html +Done +fetch +\{"sleptMs":10,"totalMs":30\}\nmail +default +report-1:mail +Done +pdf,html +\{"sleptMs":1,"totalMs":81\}\n$/,
      );
      await run('npm run taskq -- flow cancel report-2', /^flow report-2 cancelled$/m);
      expect((await flows.get('report-2'))?.status).toBe('FlowCancelled');
    } finally {
      await flows.close();
    }

    worker.signal('SIGTERM');
    expect((await worker.waitForExit(15_000)).code).toBe(0);
    await run('npm run taskq -- queue purge default --yes', /^queue default purged: \d+ key\(s\) deleted$/m);

    // SIGINT to watch itself (what Ctrl-C sends it): it stops with exit 0, and so do npm and sh around it
    for (const w of [watch, watchSilent]) {
      const app = descendants(w.pid).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('apps/cli/dist/main.js\0watch'));
      expect(app).toBeDefined();
      process.kill(app as number, 'SIGINT');
      expect((await w.waitForExit(10_000)).code).toBe(0);
    }
    expect(watchSilent.output.split('\n')[0]).toBe('watching taskq:{*}:events, every queue (Ctrl-C to stop)');

    expect(readmeCommands().filter((c) => !ran.has(c))).toEqual([]);
  }, 240_000);
});
