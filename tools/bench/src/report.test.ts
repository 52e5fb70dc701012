import { parseArgs } from './args';
import { formatTable, jsonLines, notApplicableLines } from './report';
import { cluster, latency, memory, redisCost, replicaDown, replicasUp, tput } from './test-support/results';

const plan = parseArgs(['--scenarios', 'drain,latency,memory,scale', '--scale-sizes', '100k,1m']).plan;

describe('formatTable', () => {
  const results = [
    tput('drain', 'taskq', 60_000),
    tput('drain', 'bullmq', 10_000),
    latency('taskq', 2, 0.5),
    latency('bullmq', 8, 1),
    latency('bee-queue', 4, 1),
    memory('taskq', 100),
    memory('bullmq', 400),
    memory('bee-queue', 200),
    tput('scale', 'taskq', 50_000, 100_000),
    tput('scale', 'taskq', 45_000, 1_000_000),
  ];
  const errors = [{ bench: 'drain' as const, system: 'bee-queue' as const, n: 50_000, error: 'boom' }];
  const lines = formatTable(plan, results, errors);
  const rowOf = (prefix: string, metric: string): string => {
    const line = lines.find((l) => l.startsWith(prefix) && l.includes(metric));
    if (!line) throw new Error(`no row ${prefix} ${metric} in\n${lines.join('\n')}`);
    return line;
  };

  it('has a column per system and taskq ratio columns', () => {
    expect(lines[0]).toMatch(/^scenario\s+metric\s+taskq\s+bullmq\s+bee-queue\s+taskq\/BullMQ\s+taskq\/bee-queue$/);
  });

  it('shows throughput with thousands separators, the ratio, and ERROR for a failed system', () => {
    const row = rowOf('drain', 'tasks/s');
    expect(row).toMatch(/60,000\s+10,000\s+ERROR\s+6\.00x$/);
  });

  it('shows latency p50 and p99 rows, and memory, with taskq as a fraction of each peer', () => {
    expect(rowOf('latency', 'p99')).toMatch(/2\.00\s+8\.00\s+4\.00\s+0\.25x\s+0\.50x$/);
    expect(rowOf('latency', 'p50')).toMatch(/0\.50\s+1\.00\s+1\.00\s+0\.50x\s+0\.50x$/);
    expect(rowOf('memory', 'bytes')).toMatch(/100\s+400\s+200\s+0\.25x\s+0\.50x$/);
  });

  it('shows each scale size with its ratio to the smaller size, peers as -', () => {
    expect(rowOf('scale n=1,000,000', 'tasks/s')).toContain('(0.90 of the smaller n)');
    expect(rowOf('scale n=1,000,000', 'tasks/s')).toMatch(/45,000\s+-\s+-$/);
  });
});

describe('formatTable with Redis cost per task', () => {
  const plan = parseArgs(['--scenarios', 'enqueue,drain,latency', '--repeat', '3']).plan;
  const results = [
    tput('enqueue', 'taskq', 300_000, 50_000, redisCost(2.5, 1.02, 0.001, 0.001)),
    tput('enqueue', 'bullmq', 30_000, 50_000, redisCost(25, 12, 0.02, 0.02)),
    tput('enqueue', 'bee-queue', 100_000, 50_000, redisCost(5, 3, 0.02, 0)),
    tput('drain', 'taskq', 60_000, 50_000, { ...redisCost(8, 3.5, 0.083, 0.083), tasksPerSecPerRedisCore: 125_000 }),
    tput('drain', 'bullmq', 20_000, 50_000, { ...redisCost(40, 14.25, 2.5, 2), tasksPerSecPerRedisCore: 25_000 }),
    latency('taskq', 1.2, 0.3, 4.5, redisCost(35, 7, 2.5, 1)),
    latency('bullmq', 3, 0.5, 12, redisCost(70, 20, 5, 3)),
    latency('bee-queue', 0.8, 0.2, 2, redisCost(28, 9, 3, 1)),
  ];
  const errors = [{ bench: 'drain' as const, system: 'bee-queue' as const, n: 50_000, error: 'boom' }];
  const lines = formatTable(plan, results, errors);
  const rowOf = (scenario: string, metric: string): string => {
    const line = lines.find((l) => l.startsWith(`${scenario} `) && l.includes(metric));
    if (!line) throw new Error(`no row ${scenario} ${metric} in\n${lines.join('\n')}`);
    return line;
  };

  it("follows each scenario's own rows with Redis µs, commands, round trips and script calls per task, and taskq's ratios", () => {
    expect(lines.map((l) => l.split(/\s{2,}/).slice(0, 2).join(' | '))).toEqual([
      'scenario | metric',
      expect.stringMatching(/^-+$/) as string,
      'enqueue | tasks/s (n=50,000, median of 3)',
      'enqueue | Redis µs/task (CPU, median of 3)',
      "enqueue | Redis commands/task (scripts' included)",
      'enqueue | round trips/task (Redis socket reads)',
      'enqueue | script calls/task',
      'drain | tasks/s (n=50,000, median of 3)',
      'drain | Redis µs/task (CPU, median of 3)',
      "drain | Redis commands/task (scripts' included)",
      'drain | round trips/task (Redis socket reads)',
      'drain | script calls/task',
      'drain | tasks/s per Redis core (1e6 / Redis µs/task)',
      'latency | p50 ms (1000/s for 10 s, median of 3)',
      'latency | p99 ms (1000/s for 10 s, median of 3)',
      "latency | warm-up p99 ms (a fresh worker's first 1 s, not counted above)",
      'latency | Redis µs/task (CPU, median of 3)',
      "latency | Redis commands/task (scripts' included)",
      'latency | round trips/task (Redis socket reads)',
      'latency | script calls/task',
    ]);
    expect(rowOf('drain', 'Redis µs/task')).toMatch(/8\.00\s+40\.0\s+ERROR\s+0\.20x$/);
    expect(rowOf('drain', 'commands/task')).toMatch(/3\.50\s+14\.3\s+ERROR\s+0\.25x$/);
    expect(rowOf('drain', 'round trips/task')).toMatch(/0\.083\s+2\.50\s+ERROR\s+0\.03x$/);
    expect(rowOf('drain', 'per Redis core')).toMatch(/125,000\s+25,000\s+ERROR\s+5\.00x$/);
    expect(rowOf('enqueue', 'Redis µs/task')).toMatch(/2\.50\s+25\.0\s+5\.00\s+0\.10x\s+0\.50x$/);
    expect(rowOf('enqueue', 'script calls/task')).toMatch(/0\.001\s+0\.020\s+0\.000\s+0\.05x$/);
    expect(rowOf('latency', 'Redis µs/task')).toMatch(/35\.0\s+70\.0\s+28\.0\s+0\.50x\s+1\.25x$/);
  });

  it('shows the warm-up p99 apart from the run p99, with its ratios', () => {
    expect(rowOf('latency', 'p99 ms (1000/s')).toMatch(/1\.20\s+3\.00\s+0\.80\s+0\.40x\s+1\.50x$/);
    expect(rowOf('latency', 'warm-up p99')).toMatch(/4\.50\s+12\.00\s+2\.00\s+0\.38x\s+2\.25x$/);
  });

  it('has no Redis rows where no system measured them', () => {
    const bare = formatTable(plan, [tput('drain', 'taskq', 60_000), tput('drain', 'bullmq', 20_000)], []);
    expect(bare.filter((l) => l.startsWith('drain'))).toHaveLength(1);
    expect(bare.some((l) => l.includes('Redis'))).toBe(false);
  });
});

describe('formatTable without a peer', () => {
  it('drops the ratio column of a peer that did not run', () => {
    const only = parseArgs(['--only', 'taskq,bullmq', '--scenarios', 'drain']).plan;
    const lines = formatTable(only, [tput('drain', 'taskq', 20_000), tput('drain', 'bullmq', 10_000)], []);
    expect(lines[0]).toMatch(/taskq\s+bullmq\s+taskq\/BullMQ$/);
    expect(lines[2]).toMatch(/20,000\s+10,000\s+2\.00x$/);
  });
});

describe('formatTable with the weighted scenario', () => {
  const plan = parseArgs(['--scenarios', 'drain,weighted', '--weighted-n', '30000']).plan;
  const na = [{ bench: 'weighted' as const, system: 'bee-queue' as const, n: 30_000, reason: 'bee-queue has no job priorities' }];

  it('has a weighted row after drain, with its own n, the weights, and n/a (no ratio) for bee-queue', () => {
    const results = [tput('drain', 'taskq', 90_000), tput('drain', 'bullmq', 30_000), tput('weighted', 'taskq', 50_000, 30_000), tput('weighted', 'bullmq', 20_000, 30_000)];
    const lines = formatTable(plan, results, [], na);
    expect(lines[2]).toMatch(/^drain\s+tasks\/s \(n=50,000, median of 3\)\s+90,000\s+30,000\s+-\s+3\.00x$/);
    expect(lines[3]).toMatch(/^weighted\s+tasks\/s \(n=30,000, 3 queues 6:3:1, priorities 0-9, median of 3\)\s+50,000\s+20,000\s+n\/a\s+2\.50x$/);
  });

  it('shows ERROR, not n/a, for a system that failed the scenario', () => {
    const lines = formatTable(plan, [tput('weighted', 'taskq', 50_000, 30_000)], [{ bench: 'weighted', system: 'bullmq', n: 30_000, error: 'lost' }], na);
    expect(lines[3]).toMatch(/50,000\s+ERROR\s+n\/a$/);
  });

  it('prints one n/a line per scenario a system does not run', () => {
    expect(notApplicableLines(na)).toEqual(['n/a  weighted bee-queue: bee-queue has no job priorities']);
  });
});

describe('formatTable with the cluster scenario', () => {
  const plan = parseArgs(['--scenarios', 'cluster', '--cluster-n', '30000']).plan;
  const na = [{ bench: 'cluster' as const, system: 'bee-queue' as const, n: 30_000, reason: 'no cluster support' }];
  const cpu = (redis: number, worker: number, cores: number) => ({ redisUsPerTask: redis, workerUsPerTask: worker, benchUsPerTask: 0.5, coresBusy: cores });
  const results = [
    cluster('taskq', '1-node-1-queue', 60_000, cpu(10, 8, 1.3)),
    cluster('bullmq', '1-node-1-queue', 20_000, cpu(40, 45, 1.7)),
    cluster('taskq', '1-node-3-queues', 48_000, cpu(12, 9, 1.3)),
    cluster('bullmq', '1-node-3-queues', 19_000, cpu(41, 46, 1.7)),
    cluster('taskq', '3-masters-3-queues', 45_000, cpu(16, 11, 1.9)),
    cluster('bullmq', '3-masters-3-queues', 22_000, cpu(44, 47, 1.9)),
  ];
  const lines = formatTable(plan, results, [], na);

  it('has a row per layout with its tasks/s, n/a for bee-queue, and taskq/BullMQ within the layout', () => {
    expect(lines[2]).toMatch(/^cluster\s+tasks\/s, 1 node, 1 queue \(n=30,000, median of 3\)\s+60,000\s+20,000\s+n\/a\s+3\.00x$/);
    expect(lines[3]).toMatch(/^cluster\s+tasks\/s, 1 node, 3 queues .*48,000\s+19,000\s+n\/a\s+2\.53x$/);
    expect(lines[4]).toMatch(/^cluster\s+tasks\/s, 3 masters, 3 queues .*45,000\s+22,000\s+n\/a\s+2\.05x$/);
  });

  it('then each layout over 1 node with 1 queue, per system, with no peer ratio', () => {
    expect(lines[5]).toMatch(/^cluster\s+1 node, 3 queues \/ 1 node, 1 queue\s+0\.80x\s+0\.95x\s+n\/a$/);
    expect(lines[6]).toMatch(/^cluster\s+3 masters, 3 queues \/ 1 node, 1 queue\s+0\.75x\s+1\.10x\s+n\/a$/);
  });

  it("then each layout's CPU per task of the redis-server(s) and the worker, and the cores kept busy", () => {
    expect(lines[7]).toMatch(/^cluster\s+CPU µs\/task redis \+ workers, cores busy \(1 node, 1 queue\)\s+10\.0 \+ 8\.0, 1\.30\s+40\.0 \+ 45\.0, 1\.70\s+n\/a$/);
    expect(lines[9]).toMatch(/\(3 masters, 3 queues\)\s+16\.0 \+ 11\.0, 1\.90\s+44\.0 \+ 47\.0, 1\.90\s+n\/a$/);
    expect(lines).toHaveLength(10);
  });

  it('shows ERROR for a system that failed a layout, and no CPU rows where none was measured', () => {
    const errors = [{ bench: 'cluster' as const, system: 'bullmq' as const, n: 30_000, error: '3-masters-3-queues: lost' }];
    const without = formatTable(plan, [cluster('taskq', '1-node-1-queue', 60_000), cluster('taskq', '3-masters-3-queues', 30_000)], errors, na);
    expect(without[4]).toMatch(/30,000\s+ERROR\s+n\/a$/);
    expect(without[6]).toMatch(/0\.50x\s+ERROR\s+n\/a$/);
    expect(without.some((l) => l.includes('CPU'))).toBe(false);
  });
});

describe('formatTable with the replicas scenario', () => {
  const plan = parseArgs(['--scenarios', 'replicas', '--replicas-n', '4000', '--replicas-down-n', '50']).plan;
  const na = [
    { bench: 'replicas' as const, system: 'bullmq' as const, n: 4000, reason: 'no WAIT' },
    { bench: 'replicas' as const, system: 'bee-queue' as const, n: 4000, reason: 'no WAIT' },
  ];
  const lines = formatTable(plan, [replicasUp('off', 0.4, 2, 60_000), replicasUp('wait-1', 0.6, 3, 30_000), replicaDown(100.4, 101.25)], [], na);

  it('has the single enqueue per mode, then { replicas: 1 } over off, taskq only, the peers n/a and no peer ratio', () => {
    expect(lines[2]).toMatch(/^replicas\s+one enqueue at a time, p50 \/ p99 ms, waitForReplicas off \(n=4,000, median of 3\)\s+0\.40 \/ 2\.00\s+n\/a\s+n\/a$/);
    expect(lines[3]).toMatch(/^replicas\s+one enqueue at a time, p50 \/ p99 ms, \{ replicas: 1 \}\s+0\.60 \/ 3\.00\s+n\/a\s+n\/a$/);
    expect(lines[4]).toMatch(/^replicas\s+one enqueue at a time, \{ replicas: 1 \} \/ waitForReplicas off, p50 \/ p99\s+1\.50x \/ 1\.50x\s+n\/a\s+n\/a$/);
  });

  it('then the batches of 100 per mode and their ratio', () => {
    expect(lines[5]).toMatch(/^replicas\s+enqueueMany by 100, tasks\/s, waitForReplicas off \(n=4,000, median of 3\)\s+60,000\s+n\/a\s+n\/a$/);
    expect(lines[6]).toMatch(/^replicas\s+enqueueMany by 100, tasks\/s, \{ replicas: 1 \}\s+30,000\s+n\/a\s+n\/a$/);
    expect(lines[7]).toMatch(/^replicas\s+enqueueMany by 100, \{ replicas: 1 \} \/ waitForReplicas off\s+0\.50x\s+n\/a\s+n\/a$/);
  });

  it('then what a refused enqueue took with the replica stopped', () => {
    expect(lines[8]).toMatch(/^replicas\s+replica stopped, \{ replicas: 1, timeoutMs: 50 \}: ms to NotReplicatedError, p50 \/ p99 \(n=50\)\s+100\.40 \/ 101\.25\s+n\/a\s+n\/a$/);
    expect(lines).toHaveLength(9);
  });

  it('shows ERROR in every row when taskq failed, and - where a figure is missing', () => {
    const errors = [{ bench: 'replicas' as const, system: 'taskq' as const, n: 4000, error: 'wait-1: lost' }];
    const failed = formatTable(plan, [replicasUp('off', 0.4, 2, 60_000)], errors, na);
    expect(failed[2]).toMatch(/0\.40 \/ 2\.00\s+n\/a\s+n\/a$/);
    expect(failed[3]).toMatch(/ERROR\s+n\/a\s+n\/a$/);
    expect(failed[8]).toMatch(/ERROR\s+n\/a\s+n\/a$/);
    const onlyTaskq = parseArgs(['--only', 'taskq', '--scenarios', 'replicas']).plan;
    expect(formatTable(onlyTaskq, [], [])[2]).toMatch(/\s+-$/);
  });
});

describe('jsonLines', () => {
  it('prints one parseable line per result, then one per failed run', () => {
    const lines = jsonLines([tput('drain', 'taskq', 2), tput('drain', 'bullmq', 1)], [{ bench: 'drain', system: 'bee-queue', n: 5, error: 'x' }]);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ bench: 'drain', system: 'taskq', tasksPerSec: 2, ratioVsBullmq: 2 }),
      expect.objectContaining({ bench: 'drain', system: 'bullmq', ratioVsBullmq: 1 }),
      { bench: 'drain', system: 'bee-queue', n: 5, error: 'x' },
    ]);
  });

  it('prints a line for a scenario a system does not run, with the reason', () => {
    const lines = jsonLines([tput('weighted', 'taskq', 2)], [], [{ bench: 'weighted', system: 'bee-queue', n: 5, reason: 'no priorities' }]);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ bench: 'weighted', system: 'taskq', tasksPerSec: 2 }),
      { bench: 'weighted', system: 'bee-queue', n: 5, notApplicable: 'no priorities' },
    ]);
  });
});
