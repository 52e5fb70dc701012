import { parseArgs } from './args';
import { formatTable, jsonLines } from './report';
import { fleet, idleFleet } from './test-support/fleet-results';

describe('formatTable with the fleet scenario', () => {
  const plan = parseArgs(['--scenarios', 'fleet', '--fleet-n', '20000', '--fleet-k', '1,2']).plan;
  const results = [
    // K = 1 runs once and is reported under both modes
    ...(['same-total', 'same-per-process'] as const).flatMap((mode) => [
      fleet('taskq', 1, mode, 40_000, { redisUsPerTask: 11, workerUsPerTask: 9 }),
      fleet('bullmq', 1, mode, 10_000, { redisUsPerTask: 50, workerUsPerTask: 60 }),
      fleet('bee-queue', 1, mode, 8_000, { redisUsPerTask: 30, workerUsPerTask: 70 }),
    ]),
    fleet('taskq', 2, 'same-total', 42_000, { concurrency: [25, 25], redisUsPerTask: 12.34 }),
    fleet('bullmq', 2, 'same-total', 14_000, { concurrency: [25, 25] }),
    fleet('taskq', 2, 'same-per-process', 50_000, { redisUsPerTask: 13, workerUsPerTask: 10.5 }),
    fleet('bullmq', 2, 'same-per-process', 10_000),
    fleet('bee-queue', 2, 'same-per-process', 25_000),
  ];
  const errors = [{ bench: 'fleet' as const, system: 'bee-queue' as const, n: 20_000, error: '25+25: lost' }];
  const lines = formatTable(plan, results, errors);

  it('has a row per configuration, K = 1 once, with tasks/s and taskq over each peer at the same K and mode', () => {
    expect(lines[2]).toMatch(/^fleet\s+tasks\/s, K=1: 1 x 50, either mode \(n=20,000, median of 3\)\s+40,000\s+10,000\s+8,000\s+4\.00x\s+5\.00x$/);
    expect(lines[3]).toMatch(/^fleet\s+tasks\/s, K=2: 2 x 25, same total concurrency\s+42,000\s+14,000\s+ERROR\s+3\.00x$/);
    expect(lines[4]).toMatch(/^fleet\s+tasks\/s, K=2: 2 x 50, same concurrency per process\s+50,000\s+10,000\s+25,000\s+5\.00x\s+2\.00x$/);
  });

  it('then each K > 1 over the same system at K = 1, in its mode, with no peer ratio', () => {
    expect(lines[5]).toMatch(/^fleet\s+K=2 \/ K=1, same total concurrency\s+1\.05x\s+1\.40x\s+ERROR$/);
    expect(lines[6]).toMatch(/^fleet\s+K=2 \/ K=1, same concurrency per process\s+1\.25x\s+1\.00x\s+3\.13x$/);
  });

  it("then Redis's CPU per task and the workers' where /proc was read", () => {
    expect(lines[7]).toMatch(/^fleet\s+CPU µs\/task Redis \+ workers, K=1: 1 x 50, either mode\s+11\.0 \+ 9\.0\s+50\.0 \+ 60\.0\s+30\.0 \+ 70\.0$/);
    expect(lines[8]).toMatch(/K=2: 2 x 25, same total concurrency\s+12\.3\s+10\.0\s+ERROR$/);
    expect(lines[9]).toMatch(/K=2: 2 x 50, same concurrency per process\s+13\.0 \+ 10\.5\s+10\.0\s+10\.0$/);
    expect(lines).toHaveLength(10);
  });

  it('prints one JSON line per system, K and mode', () => {
    const records = jsonLines(results, errors).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r['bench'] === 'fleet' && r['workers'] === 1)).toHaveLength(6);
    expect(records).toContainEqual(expect.objectContaining({ bench: 'fleet', system: 'taskq', workers: 2, mode: 'same-per-process', ratioVsBullmq: 5, ratioVsOneWorker: 1.25 }));
  });
});

describe('formatTable with the idle-fleet scenario', () => {
  const plan = parseArgs(['--scenarios', 'idle-fleet', '--only', 'taskq,bullmq', '--idle-fleet-ms', '5000']).plan;
  const lines = formatTable(plan, [idleFleet('taskq', 2.1, { redisUsPerTask: 40, p99Ms: 1.5 }), idleFleet('bullmq', 2.8, { redisUsPerTask: 80, p99Ms: 3 })], []);

  it("names the warm-up's length: a second, or the stream's when that is shorter", () => {
    const short = formatTable(parseArgs(['--scenarios', 'idle-fleet', '--only', 'taskq,bullmq', '--idle-fleet-ms', '500']).plan, [idleFleet('taskq', 2.1), idleFleet('bullmq', 2.8)], []);
    expect(short[8]).toMatch(/^idle-fleet\s+warm-up p99 ms \(the fleet's first 0\.5 s, not counted above\)/);
  });

  it('has the Redis cost per task, script calls first with the setup, then the latency, each with taskq over BullMQ', () => {
    expect(lines[2]).toMatch(/^idle-fleet\s+script calls\/task \(8 idle workers x 10, 1000\/s for 5 s\)\s+2\.10\s+2\.80\s+0\.75x$/);
    expect(lines[3]).toMatch(/^idle-fleet\s+Redis commands\/task\s+30\.00\s+30\.00\s+1\.00x$/);
    expect(lines[4]).toMatch(/^idle-fleet\s+round trips \(socket reads\)\/task\s+1\.50\s+1\.50\s+1\.00x$/);
    expect(lines[5]).toMatch(/^idle-fleet\s+Redis CPU µs\/task\s+40\.0\s+80\.0\s+0\.50x$/);
    expect(lines[6]).toMatch(/^idle-fleet\s+enqueue-to-start p50 ms\s+0\.50\s+0\.50\s+1\.00x$/);
    expect(lines[7]).toMatch(/^idle-fleet\s+enqueue-to-start p99 ms\s+1\.50\s+3\.00\s+0\.50x$/);
    expect(lines[8]).toMatch(/^idle-fleet\s+warm-up p99 ms \(the fleet's first 1 s, not counted above\)\s+40\.00\s+40\.00\s+1\.00x$/);
    expect(lines).toHaveLength(9);
  });

  it("adds the worker processes' CPU per task where it was read", () => {
    const withCpu = formatTable(plan, [idleFleet('taskq', 2.1, { workerUsPerTask: 900 }), idleFleet('bullmq', 2.8, { workerUsPerTask: 1200 })], []);
    expect(withCpu[6]).toMatch(/^idle-fleet\s+worker processes CPU µs\/task\s+900\.0\s+1200\.0\s+0\.75x$/);
    expect(withCpu[8]).toMatch(/p99 ms/);
    expect(withCpu).toHaveLength(10);
  });
});
