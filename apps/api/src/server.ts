import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import {
  connectionNameOf,
  dag,
  DEFAULT_KEY_PREFIX,
  DEFAULT_QUEUE,
  discoverQueues,
  FLOW_ENDED,
  Flows,
  InvalidFlowError,
  InvalidListQueryError,
  InvalidTaskError,
  MAX_ID_LENGTH,
  Queue,
  queueKeys,
  readConsumers,
  readQueueCounts,
  readThroughput,
  type FlowState,
  type FlowStep,
  type RedisClient,
  type TaskInput,
} from '@taskq/queue';
import { silentLogger, TaskqError, type Logger } from '@taskq/recorder';
import { bearerToken, type Role, type Tokens } from './auth';
import { registerDashboard } from './dashboard';
import { EventIdError, parseEventId } from './events/event-id';
import { EventHub } from './events/hub';
import { EventStream, type EventStreamSettings } from './events/stream';
import { openApiDocument, type DocumentedRoute } from './openapi';
import {
  AddedFlowReply,
  CancelQuery,
  CancelReply,
  EnqueueBody,
  EnqueueReply,
  ErrorReply,
  EventsHeaders,
  EventsQuery,
  EventsStream,
  FlowBody,
  FlowCancelReply,
  FlowListReply,
  FlowParams,
  FlowReply,
  FlowsQuery,
  QueueParams,
  QueuesReply,
  RequeueBody,
  RequeueReply,
  RetryReply,
  TaskListReply,
  TaskParams,
  WhoamiReply,
  TaskReply,
  TasksQuery,
  THROUGHPUT_MINUTES,
  type TaskBody,
} from './schemas';

export interface ApiOptions {
  /** The Redis connection every request uses (one client, shared). */
  readonly redis: RedisClient;
  readonly tokens: Tokens;
  /** Key prefix of the queues (default `taskq`). */
  readonly prefix?: string;
  readonly logger?: Logger;
  /** Largest request body, bytes (413 beyond). Default 1 MiB. */
  readonly bodyLimit?: number;
  /** The version shown in the OpenAPI document. */
  readonly version?: string;
  /** GET /events: keepalive, retry hint, the bytes a slow client may hold. */
  readonly events?: EventStreamSettings;
}

/** Route config: the role a route needs; none: public (health checks, the OpenAPI document). */
declare module 'fastify' {
  interface FastifyContextConfig {
    role?: Role;
  }
  interface FastifyRequest {
    /** The role of the request's token (admin when no token is configured: every request is allowed). */
    taskqRole?: Role;
  }
  /** What the OpenAPI document shows of a route (see openapi.ts). */
  interface FastifySchema {
    summary?: string;
    /** Left out of the document. */
    hide?: boolean;
  }
}

/** Most Queue objects kept for reuse (one per queue name asked for). */
const QUEUE_CACHE = 1000;

const errorResponses = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
};

function httpError(statusCode: number, message: string): FastifyError {
  const err = new Error(message) as FastifyError;
  err.statusCode = statusCode;
  return err;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The field at fault and what is wrong with it, from a validation error (the first: a request is refused at its first fault). */
function validationProblem(err: FastifyError): { field: string; message: string } {
  const first = err.validation?.[0];
  const params: Record<string, unknown> = first?.params ?? {};
  let path = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`.replace(/\//g, '.');
  let what = first?.message ?? 'is not valid';
  if (typeof params['additionalProperty'] === 'string') {
    path = `${path}.${params['additionalProperty']}`;
    what = 'is not a field of this object';
  } else if (typeof params['missingProperty'] === 'string') {
    path = `${path}.${params['missingProperty']}`;
    what = 'is required';
  } else if (first?.keyword === 'if') {
    what = 'is not valid';
  }
  return { field: path, message: `${path} ${what}` };
}

/** The task input the library takes, from a validated request body. */
function toTaskInput(body: TaskBody): TaskInput {
  const { runAt, payload, ...rest } = body;
  return { ...rest, payload: payload as TaskInput['payload'], ...(runAt !== undefined ? { runAt } : {}) };
}

/**
 * The REST API: a fastify instance (not listening yet). Every route's
 * schemas validate its requests, shape its responses and make the OpenAPI
 * document; errors are JSON (`statusCode`, `error`, `message`, `field` for a
 * 400), never a stack trace.
 */
export async function buildServer(o: ApiOptions): Promise<FastifyInstance> {
  const logger = o.logger ?? silentLogger;
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // a reverse proxy's address is not taken for the client's
    trustProxy: false,
    // a Last-Event-ID of a stream that follows many queues is long (about 40 bytes per queue; the schema allows 64 KiB)
    http: { maxHeaderSize: 80 * 1024 },
    // a path parameter may be as long as a task id (measured decoded; fastify's default, 100, answered
    // 414 for ids of 101-256 characters and queue names of 101-200); a longer one is 414, JSON
    maxParamLength: MAX_ID_LENGTH,
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: false } },
  });
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.method === 'HEAD') return;
    routes.push({ method: route.method, url: route.url, schema: route.schema, role: route.config?.role });
  });

  const queues = new Map<string, Queue>();
  const queueOf = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      if (queues.size >= QUEUE_CACHE) queues.delete(queues.keys().next().value as string);
      q = new Queue({ queue: name, prefix: o.prefix, connection: o.redis, logger });
      queues.set(name, q);
    }
    return q;
  };

  // auth: a route with a role needs a bearer token of that role (admin may do everything)
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!o.tokens.configured) {
      // every request is allowed: only from this machine's own pages and programs (see localOnlyProblem)
      const problem = localOnlyProblem(req.headers.host, req.headers.origin, req.method);
      if (problem !== undefined) throw httpError(403, problem);
    }
    const needed = req.routeOptions.config.role;
    if (needed === undefined) return;
    if (!o.tokens.configured) {
      req.taskqRole = 'admin';
      return;
    }
    const token = bearerToken(req.headers.authorization);
    const role = token === undefined ? undefined : o.tokens.roleOf(token);
    if (role === undefined) {
      void reply.header('www-authenticate', 'Bearer realm="taskq"');
      throw httpError(401, token === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the bearer token is not valid');
    }
    if (needed === 'admin' && role !== 'admin') throw httpError(403, 'this token is read-only; an admin token is required');
    req.taskqRole = role;
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let statusCode = err.statusCode ?? 500;
    let message = err.message;
    let field: string | undefined;
    if (err.validation) {
      statusCode = 400;
      ({ field, message } = validationProblem(err));
    } else if (err instanceof InvalidTaskError || err instanceof InvalidFlowError) {
      // the library's own checks (a step's task input; a flow's names, deps, cycles): its message names the problem
      statusCode = 400;
    } else if (err instanceof InvalidListQueryError) {
      // a cursor that is not one a page gave, for this status
      statusCode = 400;
      field = `querystring.${err.field}`;
      message = `querystring.${err.message}`; // its message begins with the field's name
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = `the request body is larger than ${app.initialConfig.bodyLimit} bytes`;
    } else if (statusCode >= 500 || !(err instanceof Error)) {
      logger.error({ err, method: req.method, url: req.url }, `${req.method} ${req.url} failed: ${String(err)}`);
      statusCode = statusCode === 503 ? 503 : 500;
      message = err instanceof TaskqError ? err.message : 'internal error (logged by the server)';
    }
    void reply.status(statusCode).send({ statusCode, error: REASONS[statusCode] ?? 'Error', message, ...(field ? { field } : {}) });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/healthz', { schema: { summary: 'the process answers', response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    void reply.type('text/plain; charset=utf-8');
    return 'ok\n';
  });
  app.get('/readyz', { schema: { summary: 'Redis answers a PING within a second', response: { 200: { type: 'string' }, 503: { type: 'string' } } } }, async (_req, reply) => {
    void reply.type('text/plain; charset=utf-8');
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([o.redis.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no reply within 1000 ms')), 1000)))]).finally(() => clearTimeout(timer));
      return 'ready\n';
    } catch (err) {
      return reply.status(503).send(`Redis unreachable: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });

  app.post<{ Params: QueueParams; Body: EnqueueBody }>(
    '/queues/:queue/tasks',
    {
      config: { role: 'admin' },
      schema: {
        summary: "enqueue one task or many; a caller's id makes it idempotent",
        params: QueueParams,
        body: EnqueueBody,
        response: { 201: EnqueueReply, ...errorResponses },
      },
    },
    async (req, reply) => {
      const bodies = Array.isArray(req.body) ? req.body : [req.body];
      const tasks = await queueOf(req.params.queue).enqueueMany(bodies.map(toTaskInput));
      return reply.status(201).send({
        tasks: tasks.map((t) => ({ id: t.id, queue: req.params.queue, type: t.type, enqueuedAt: t.enqueuedAt, priority: t.priority })),
      });
    },
  );

  app.get<{ Params: QueueParams; Querystring: TasksQuery }>(
    '/queues/:queue/tasks',
    {
      config: { role: 'read' },
      schema: {
        summary: 'a page of the tasks of one status: Queued in the order they run, Delayed and Retrying soonest first, the others newest first',
        params: QueueParams,
        querystring: TasksQuery,
        response: { 200: TaskListReply, ...errorResponses },
      },
    },
    async (req) => {
      const { status, cursor, limit } = req.query;
      const page = await queueOf(req.params.queue).listTasks(status, { ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) });
      return {
        tasks: page.tasks.map(({ id, task, record }) => ({
          id,
          status: record.status,
          attempt: record.attempt,
          at: record.at,
          ...(task ? { type: task.type, enqueuedAt: task.enqueuedAt, priority: task.priority, payload: task.payload } : {}),
          ...(record.worker !== undefined ? { worker: record.worker } : {}),
          ...(record.reason !== undefined ? { reason: record.reason } : {}),
          ...(record.runAt !== undefined ? { runAt: record.runAt } : {}),
        })),
        ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );

  app.get<{ Params: TaskParams }>(
    '/tasks/:queue/:id',
    { config: { role: 'read' }, schema: { summary: "a task: its status, attempts, history, last error, progress and result", params: TaskParams, response: { 200: TaskReply, ...errorResponses } } },
    async (req) => {
      const q = queueOf(req.params.queue);
      const id = req.params.id;
      const [record, tasks, history, progress, result] = await Promise.all([q.status(id), q.getTasks([id]), q.history(id), q.progress(id), q.result(id)]);
      if (!record) throw httpError(404, `no task ${id} in queue ${req.params.queue}`);
      const task = tasks.get(id);
      const lastError = history.length > 0 ? history[history.length - 1]?.error : undefined;
      return {
        id,
        queue: req.params.queue,
        ...(task ? { type: task.type, payload: task.payload, enqueuedAt: task.enqueuedAt, maxAttempts: task.maxAttempts, priority: task.priority, timeoutMs: task.timeoutMs } : {}),
        status: record.status,
        attempt: record.attempt,
        at: record.at,
        worker: record.worker,
        reason: record.reason,
        runAt: record.runAt,
        history,
        lastError: lastError ?? (record.status === 'Failed' || record.status === 'Dead' ? record.reason : undefined),
        progress,
        result,
      };
    },
  );

  app.post<{ Params: TaskParams; Querystring: CancelQuery }>(
    '/tasks/:queue/:id/cancel',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'cancel a task: at once if it has not started; a running one is aborted by its worker',
        params: TaskParams,
        querystring: CancelQuery,
        response: { 200: CancelReply, 202: CancelReply, ...errorResponses },
      },
    },
    async (req, reply) => {
      const result = await queueOf(req.params.queue).cancel(req.params.id, { waitMs: req.query.waitMs, reason: 'cancelled through the API' });
      if (result.outcome === 'not-found') throw httpError(404, `no task ${req.params.id} in queue ${req.params.queue}`);
      // a running task whose worker did not confirm yet: accepted, not done
      return reply.status(result.outcome === 'running' ? 202 : 200).send(result);
    },
  );

  app.post<{ Params: TaskParams }>(
    '/tasks/:queue/:id/retry',
    { config: { role: 'admin' }, schema: { summary: 'run a Dead or Failed task again (Queued, its attempts from zero)', params: TaskParams, response: { 200: RetryReply, ...errorResponses } } },
    async (req) => {
      const q = queueOf(req.params.queue);
      const id = req.params.id;
      const record = await q.status(id);
      if (!record) throw httpError(404, `no task ${id} in queue ${req.params.queue}`);
      if (record.status !== 'Dead' && record.status !== 'Failed') throw httpError(409, `task ${id} is ${record.status}: only a Dead or Failed task can be retried`);
      const requeued = record.status === 'Dead' ? await q.requeueDead([id]) : await q.requeueFailed([id]);
      if (requeued.length === 0) throw httpError(409, `task ${id} is no longer ${record.status === 'Dead' ? 'in the dead-letter list' : 'among the failed tasks'}`);
      return { id, status: 'Queued' };
    },
  );

  app.post<{ Params: QueueParams; Body: RequeueBody }>(
    '/queues/:queue/dead/requeue',
    {
      config: { role: 'admin' },
      schema: { summary: 'run dead tasks again: some (`ids`) or all', params: QueueParams, body: RequeueBody, response: { 200: RequeueReply, ...errorResponses } } },
    async (req) => {
      const q = queueOf(req.params.queue);
      if ('all' in req.body) return { requeued: await q.requeueAllDead() };
      const ids = await q.requeueDead(req.body.ids);
      return { requeued: ids.length, ids };
    },
  );

  // flows: one Flows object for reading and cancelling; an add uses one whose default queue is the body's
  const flows = new Flows({ prefix: o.prefix, connection: o.redis, logger });
  const noFlow = (id: string): FastifyError => httpError(404, `no flow ${id} (never added, or forgotten after its retention)`);
  const flowOf = async (id: string): Promise<FlowState> => {
    const state = await flows.get(id);
    if (!state) throw noFlow(id);
    return state;
  };

  app.post<{ Body: FlowBody }>(
    '/flows',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'add a flow: steps in any queues, each waiting for the steps it names (dependsOn: chains, groups, chords, DAGs); an id that exists returns that flow',
        body: FlowBody,
        response: { 200: AddedFlowReply, 201: AddedFlowReply, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { id, policy, retentionMs, queue, steps } = req.body;
      const adder = new Flows({ queue: queue ?? DEFAULT_QUEUE, prefix: o.prefix, connection: o.redis, logger });
      const added = await adder.add(dag(...steps.map((s) => s as FlowStep)), {
        ...(id !== undefined ? { id } : {}),
        ...(policy !== undefined ? { policy } : {}),
        ...(retentionMs !== undefined ? { retentionMs } : {}),
      });
      return reply.status(added.created ? 201 : 200).send(added);
    },
  );

  app.get<{ Querystring: FlowsQuery }>(
    '/flows',
    {
      config: { role: 'read' },
      schema: { summary: 'the flows kept (not yet forgotten), newest first, with the state of each', querystring: FlowsQuery, response: { 200: FlowListReply, ...errorResponses } },
    },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const offset = req.query.offset ?? 0;
      // one more than asked: whether a next page exists
      const ids = await flows.list({ limit: limit + 1, offset });
      // a flow forgotten between the index and its hash is left out
      const summaries = await flows.summaries(ids.slice(0, limit));
      return {
        flows: summaries.map(({ seq: _seq, at: _at, ...summary }) => summary),
        ...(ids.length > limit ? { nextOffset: offset + limit } : {}),
      };
    },
  );

  app.get<{ Params: FlowParams }>(
    '/flows/:id',
    { config: { role: 'read' }, schema: { summary: "a flow: its status, counts and every step's status, task, result or error", params: FlowParams, response: { 200: FlowReply, ...errorResponses } } },
    async (req) => flowOf(req.params.id),
  );

  app.post<{ Params: FlowParams }>(
    '/flows/:id/cancel',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'cancel a flow: its waiting and queued steps at once, its running ones are asked to stop (202 until they have)',
        params: FlowParams,
        response: { 200: FlowCancelReply, 202: FlowCancelReply, ...errorResponses },
      },
    },
    async (req, reply) => {
      const status = await flows.cancel(req.params.id, { reason: 'cancelled through the API' });
      if (status === undefined) throw noFlow(req.params.id);
      const cancelled = status === 'FlowCancelling' || status === 'FlowCancelled';
      // running steps not stopped yet: accepted, not done (as a running task's cancel)
      return reply.status(FLOW_ENDED.has(status) ? 200 : 202).send({ id: req.params.id, status, cancelled });
    },
  );

  app.get('/queues', { config: { role: 'read' }, schema: { summary: 'every queue with its counts, throughput over the last 15 minutes and workers', response: { 200: QueuesReply, ...errorResponses } } }, async () => {
    const names = await discoverQueues(o.redis, prefix);
    const queuesOut = [];
    for (const name of names) queuesOut.push(await summarize(o.redis, name, o.prefix));
    return { queues: queuesOut };
  });

  // GET /events: one subscriber connection for the process (the hub), one EventStream per client
  const prefix = o.prefix ?? DEFAULT_KEY_PREFIX;
  const baseName = connectionNameOf(o.redis);
  const hub = new EventHub(o.redis, prefix, logger, baseName ? `${baseName}-events` : undefined);
  const streams = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.close('the server is stopping');
    await hub.close();
  });

  app.get<{ Querystring: EventsQuery; Headers: EventsHeaders }>(
    '/events',
    {
      config: { role: 'read' },
      schema: {
        summary: 'live status records of one, some or every queue (Server-Sent Events), resumable with Last-Event-ID',
        querystring: EventsQuery,
        headers: EventsHeaders,
        response: { 200: EventsStream, ...errorResponses },
      },
    },
    async (req, reply) => {
      let from;
      try {
        const lastId = req.headers['last-event-id'];
        from = lastId === undefined || lastId.trim() === '' ? undefined : parseEventId(lastId);
      } catch (err) {
        if (err instanceof EventIdError) throw httpError(400, err.message);
        throw err;
      }
      const stream = new EventStream({ hub, redis: o.redis, prefix, logger, settings: o.events }, { queues: req.query.queue ?? 'all', from, flows: req.query.flows === true });
      // subscribed before anything is written: a refusal is an ordinary error reply
      try {
        await stream.subscribe();
      } catch (err) {
        throw Object.assign(
          new TaskqError('TASKQ_EVENTS_UNAVAILABLE', `Redis refused the events subscription: ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
          { statusCode: 503 },
        );
      }
      streams.add(stream);
      stream.onClosed(() => streams.delete(stream));
      reply.hijack();
      void stream.start(reply.raw);
    },
  );

  app.get(
    '/whoami',
    { config: { role: 'read' }, schema: { summary: "the role of the request's token (what the dashboard shows buttons for)", response: { 200: WhoamiReply, ...errorResponses } } },
    async (req) => ({ role: req.taskqRole ?? 'read', auth: o.tokens.configured }),
  );

  registerDashboard(app);

  app.get('/openapi.json', { schema: { summary: 'this document', hide: true } }, async () => openApiDocument(routes, o.version ?? '0.1.0', o.tokens.configured));

  await app.ready();
  return app;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Without tokens the API allows every request and listens on 127.0.0.1; a
 * web page the user has open elsewhere could still reach it through the
 * browser. So: the Host must name this machine (a page of another site
 * that rebinds its DNS name to 127.0.0.1 sends its own name), and a request
 * that changes something and comes from a page must come from the API's
 * own pages (a cross-site form or fetch sends its site's Origin). Programs
 * (curl, the CLI) send no Origin. Returns why a request is refused, or undefined.
 */
export function localOnlyProblem(host: string | undefined, origin: string | undefined, method: string): string | undefined {
  const hostname = host === undefined ? '' : host.replace(/:\d+$/, '').toLowerCase();
  if (!LOCAL_HOSTS.has(hostname)) return `no API token is configured, so only requests to 127.0.0.1 or localhost are served, not to ${host === undefined ? 'no Host' : JSON.stringify(host)}`;
  if (method !== 'GET' && method !== 'HEAD' && origin !== undefined && origin.toLowerCase() !== `http://${host?.toLowerCase()}`) {
    return `no API token is configured, so a page of another origin (${origin}) may not change anything here`;
  }
  return undefined;
}

/** A queue's counts (readQueueCounts: one pipeline), throughput and consumers, as the API shows them. */
async function summarize(redis: RedisClient, queue: string, prefix: string | undefined) {
  const keys = queueKeys(queue, prefix);
  const [c, throughput, workerList, retrying, cancelled] = await Promise.all([
    readQueueCounts(redis, keys),
    readThroughput(redis, keys, THROUGHPUT_MINUTES),
    readConsumers(redis, keys),
    redis.zcard(keys.retrying),
    redis.llen(keys.cancelled),
  ]);
  return {
    queue,
    ready: c.ready,
    delayed: c.delayed,
    retrying,
    cancelled,
    inProgress: c.inProgress,
    dead: c.dead,
    failed: c.failed,
    doneKept: c.finished,
    paused: c.paused,
    workers: c.workers,
    oldestReadyAgeMs: Math.round(c.oldestReadyAgeSeconds * 1000),
    throughput,
    workerList,
  };
}
