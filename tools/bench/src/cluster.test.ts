import { bullmqClusterPrefix, CLUSTER_LAYOUTS, cpuPerTask, medianCpu, pickQueuesOnNodes } from './cluster';

describe('pickQueuesOnNodes', () => {
  // a stand-in for the cluster's slot map: name i is on node 7000 + (i * 5 mod 3)
  const nodeOf = async (queue: string): Promise<number> => 7000 + ((Number(queue.split('-').pop()) * 5) % 3);

  it('gives each node the first name that lands on it, in the order of the nodes', async () => {
    await expect(pickQueuesOnNodes(nodeOf, [7000, 7001, 7002], 'q')).resolves.toEqual(['q-0', 'q-2', 'q-1']);
  });

  it('fails, naming the node, when no name tried lands on one of them', async () => {
    await expect(pickQueuesOnNodes(nodeOf, [7000, 7009], 'q', 50)).rejects.toThrow('no queue name among 50 tried lands on node(s) 7009');
  });
});

describe('bullmqClusterPrefix', () => {
  it("is the queue's hash tag, so that BullMQ's keys of a queue share the slot of taskq's", () => {
    expect(bullmqClusterPrefix('bench-cl-4')).toBe('{bench-cl-4}');
  });
});

describe('CLUSTER_LAYOUTS', () => {
  it('runs the baseline first, then the control on the single server, then the cluster', () => {
    expect(CLUSTER_LAYOUTS.map((l) => [l.name, l.site, l.queues])).toEqual([
      ['1-node-1-queue', 'single', 1],
      ['1-node-3-queues', 'single', 3],
      ['3-masters-3-queues', 'cluster', 3],
    ]);
  });
});

describe('cpuPerTask', () => {
  it('divides each side by the tasks, in µs, and the whole by the wall time for the cores kept busy', () => {
    expect(cpuPerTask({ redisMs: 500, workersMs: 300, benchMs: 20, wallMs: 1000 }, 50_000)).toEqual({
      redisUsPerTask: 10,
      workerUsPerTask: 6,
      benchUsPerTask: 0.4,
      coresBusy: 0.82,
    });
  });

  it('reports no cores busy for a run of no measurable length', () => {
    expect(cpuPerTask({ redisMs: 0, workersMs: 0, benchMs: 0, wallMs: 0 }, 10).coresBusy).toBe(0);
  });
});

describe('medianCpu', () => {
  it('takes the median of each figure on its own', () => {
    const run = (redis: number, worker: number, cores: number) => ({ redisUsPerTask: redis, workerUsPerTask: worker, benchUsPerTask: 1, coresBusy: cores });
    expect(medianCpu([run(10, 30, 1.2), run(30, 10, 1.5), run(20, 20, 1.1)])).toEqual({ redisUsPerTask: 20, workerUsPerTask: 20, benchUsPerTask: 1, coresBusy: 1.2 });
  });
});
