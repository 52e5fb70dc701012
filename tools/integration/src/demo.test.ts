import { AppProcess, killAllApps } from './test-support/app-process';

afterEach(() => killAllApps());

describe('the demo (npm start)', () => {
  it('runs 6 tasks on the embedded Redis when REDIS_URL is unset, following each to Done, with its progress', async () => {
    const demo = AppProcess.start('demo', ['6', '--min-ms', '1000', '--max-ms', '1200'], { env: { REDIS_URL: undefined } });
    const exit = await demo.waitForExit(20_000);
    expect({ code: exit.code, signal: exit.signal, stderr: demo.stderr }).toEqual({ code: 0, signal: null, stderr: '' });

    // Every stdout line is a JSON log line, and the first one says where the data lives.
    expect(demo.lines).toHaveLength(demo.stdoutLines.length);
    expect(demo.lines[0]?.msg).toBe('taskq demo: no REDIS_URL set, running on an embedded in-memory Redis inside this process');
    expect(demo.lines[0]?.['redis']).toBe('embedded in-memory Redis');

    const ids = Array.from({ length: 6 }, (_, i) => `task_${i + 1}`);
    const doneLines = demo.lines.filter((l) => /^\[Monitor\] Task \S+ is Done$/.test(l.msg));
    expect(doneLines.map((l) => l.msg).sort()).toEqual(ids.map((id) => `[Monitor] Task ${id} is Done`).sort());
    // Each task was seen going through its states in order.
    for (const id of ids) {
      const monitorLines = demo.lines.filter((l) => l['taskId'] === id && l.msg.startsWith('[Monitor]'));
      const states = monitorLines.filter((l) => l['status'] !== undefined).map((l) => l['status']);
      expect(states).toEqual(['Queued', 'InProgress', 'Done']);
      // the sleep task's progress (the progress script runs on the embedded Redis too): a task of 1 s or more
      // outlasts the pool's next progress flush (one per 500 ms), so each shows some
      const progress = monitorLines.filter((l) => l['progress'] !== undefined).map((l) => l.msg);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      for (const m of progress) expect(m).toMatch(/^\[Monitor\] Task \S+ progress (\d)0% \(\1\/10\)$/);
    }
    const summary = demo.lines.find((l) => l.msg.startsWith('summary: '));
    expect(summary?.msg).toMatch(/^summary: 6\/6 Done, 0 Failed, 0 Dead, 0 Cancelled; wall time \d+\.\d\d s$/);
    expect(summary?.['summary']).toMatchObject({ total: 6, counts: { Done: 6, Failed: 0, Dead: 0, Cancelled: 0 } });
  });
});
