// taskq's dashboard: plain ES modules, preact + htm (one vendor file) and
// uPlot, no build step. Everything it shows comes from the API it is served
// by; it stays live through the API's event stream (GET /events), never by
// polling. User data (payloads, errors, ids) is rendered as text: preact
// escapes every text child and attribute, and nothing here sets innerHTML.
import { html, render, useCallback, useEffect, useRef, useState } from './vendor/preact-htm.js';
import uPlot from './vendor/uplot.js';
import { EventStream } from './events.js';

const STATUSES = ['Queued', 'InProgress', 'Delayed', 'Retrying', 'Done', 'Failed', 'Dead', 'Cancelled'];
const FINAL = new Set(['Done', 'Failed', 'Dead', 'Cancelled']);
const TOKEN_KEY = 'taskq.token';
const PAGE = 25;
const FEED = 50;

// ---------------------------------------------------------------- the API

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function api(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, json.message ?? `HTTP ${res.status}`);
  return json;
}

const enc = encodeURIComponent;

// ------------------------------------------------------- the event stream

// One stream for the page; the views subscribe to it while they are shown.
const listeners = new Set();
let stream;

function startStream(onState) {
  stream?.stop();
  stream = new EventStream({
    url: '/events?flows=true',
    headers: authHeaders,
    onState,
    onEvent: (ev) => {
      for (const listener of listeners) listener(ev);
    },
  });
  stream.start();
}

function useEvents(fn) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const listener = (ev) => ref.current(ev);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
}

/** fn, called at most once per `ms` (the last call wins; a trailing call runs). */
function useThrottled(fn, ms) {
  const ref = useRef(fn);
  ref.current = fn;
  const state = useRef({ timer: undefined, last: 0 });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return useCallback(() => {
    const s = state.current;
    if (s.timer !== undefined) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.last = Date.now();
      void ref.current();
    }, wait);
  }, [ms]);
}

/** Tickets for a view's requests: only the reply to the latest one is shown (replies may come back out of order). */
function useLatest() {
  const ref = useRef({ n: 0 });
  return ref.current.api ?? (ref.current.api = { take: () => ++ref.current.n, is: (ticket) => ticket === ref.current.n });
}

// ------------------------------------------------------------ formatting

function time(ms) {
  if (ms === undefined || ms === null) return '';
  const d = new Date(ms);
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${d.toLocaleTimeString()}`;
}

function age(ms) {
  if (!ms) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** JSON as text for a <pre> (never HTML). */
function jsonText(v) {
  return v === undefined ? '(not stored)' : JSON.stringify(v, null, 2);
}

function parseRoute() {
  let parts;
  try {
    parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  } catch {
    return { view: 'queues' }; // a malformed %-escape
  }
  if (parts[0] === 'queue' && parts[1]) return { view: 'queue', queue: parts[1], status: STATUSES.includes(parts[2]) ? parts[2] : 'Queued' };
  if (parts[0] === 'task' && parts[1] && parts[2]) return { view: 'task', queue: parts[1], id: parts.slice(2).join('/') };
  if (parts[0] === 'flows') return { view: 'flows' };
  if (parts[0] === 'flow' && parts[1]) return { view: 'flow', id: parts.slice(1).join('/') };
  return { view: 'queues' };
}

const queueHref = (queue, status) => `#/queue/${enc(queue)}${status ? `/${status}` : ''}`;
const taskHref = (queue, id) => `#/task/${enc(queue)}/${enc(id)}`;
const flowHref = (id) => `#/flow/${enc(id)}`;
const FLOW_ENDED = new Set(['FlowDone', 'FlowFailed', 'FlowCancelled']);

// ---------------------------------------------------------------- views

function Status({ status }) {
  return html`<span class="status s-${status}" data-status=${status}>${status}</span>`;
}

function Problem({ error }) {
  return error ? html`<p class="problem" role="alert">${error}</p>` : null;
}

function Login({ error, onToken }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    onToken(value.trim());
  };
  return html`<form class="login" onSubmit=${submit}>
    <h2>Sign in</h2>
    <p>This API checks bearer tokens. Enter an admin token, or a read-only one to look without changing anything.</p>
    <label>Token <input type="password" name="token" autocomplete="off" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} /></label>
    <button type="submit">Sign in</button>
    <${Problem} error=${error} />
  </form>`;
}

function ThroughputChart({ queues }) {
  const box = useRef(null);
  const chart = useRef(null);
  const chartKey = useRef('');
  const withData = queues.filter((q) => Array.isArray(q.throughput) && q.throughput.length > 0);
  const key = withData.map((q) => q.queue).join('\n');
  useEffect(() => {
    if (!box.current || withData.length === 0) {
      // no chart shown: the next one is built afresh (its box is a new element)
      chart.current?.destroy();
      chart.current = null;
      return undefined;
    }
    const xs = withData[0].throughput.map((p) => p.at / 1000);
    const data = [xs];
    for (const q of withData) {
      data.push(q.throughput.map((p) => p.done));
      data.push(q.throughput.map((p) => p.failed));
    }
    // the same queues: new data; other queues (one gone, another come): another chart, with their labels
    if (chart.current && chartKey.current === key) {
      chart.current.setData(data);
      return undefined;
    }
    chart.current?.destroy();
    chartKey.current = key;
    const colors = ['#2f7ed8', '#8bbc21', '#910000', '#1aadce', '#492970', '#f28f43', '#77a1e5', '#c42525'];
    const series = [{}];
    withData.forEach((q, i) => {
      series.push({ label: `${q.queue} done/min`, stroke: colors[i % colors.length], width: 2 });
      series.push({ label: `${q.queue} failed/min`, stroke: colors[i % colors.length], dash: [4, 4], width: 1 });
    });
    chart.current = new uPlot({ width: Math.min(box.current.clientWidth || 900, 1100), height: 220, series, axes: [{}, { label: 'tasks per minute' }], scales: { x: { time: true } } }, data, box.current);
    return undefined;
  }, [key, queues]);
  useEffect(() => () => chart.current?.destroy(), []);
  if (withData.length === 0) return html`<p class="muted">No throughput recorded in the last 15 minutes.</p>`;
  return html`<div class="chart" ref=${box} aria-label="throughput, last 15 minutes"></div>`;
}

function QueuesView() {
  const [data, setData] = useState(undefined);
  const [error, setError] = useState(undefined);
  const latest = useLatest();
  const load = useCallback(async () => {
    const ticket = latest.take();
    try {
      const got = await api('GET', '/queues');
      if (!latest.is(ticket)) return;
      setData(got);
      setError(undefined);
    } catch (err) {
      if (latest.is(ticket)) setError(err.message);
    }
  }, []);
  const reload = useThrottled(load, 1000);
  useEffect(() => void load(), [load]);
  useEvents((ev) => {
    if (ev.type !== 'progress') reload();
  });
  if (!data) return html`<${Problem} error=${error} />${error ? null : html`<p class="muted">Loading…</p>`}`;
  return html`<section>
    <h2>Queues</h2>
    <${Problem} error=${error} />
    <table class="queues">
      <thead>
        <tr>
          <th>Queue</th><th>Ready</th><th>Delayed</th><th>Retrying</th><th>Running</th><th>Failed</th><th>Dead</th><th>Done (kept)</th><th>Cancelled</th><th>Workers</th><th>Oldest ready</th><th>State</th>
        </tr>
      </thead>
      <tbody>
        ${data.queues.map(
          (q) => html`<tr key=${q.queue} data-queue=${q.queue}>
            <td><a href=${queueHref(q.queue)}>${q.queue}</a></td>
            <td class="n" data-count="ready"><a href=${queueHref(q.queue, 'Queued')}>${q.ready}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Delayed')}>${q.delayed - (q.retrying ?? 0)}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Retrying')}>${q.retrying ?? 0}</a></td>
            <td class="n" data-count="inProgress"><a href=${queueHref(q.queue, 'InProgress')}>${q.inProgress}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Failed')}>${q.failed}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Dead')}>${q.dead}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Done')}>${q.doneKept - (q.cancelled ?? 0)}</a></td>
            <td class="n"><a href=${queueHref(q.queue, 'Cancelled')}>${q.cancelled ?? 0}</a></td>
            <td class="n">${q.workers}</td>
            <td class="n">${age(q.oldestReadyAgeMs)}</td>
            <td>${q.paused ? html`<span class="paused">paused</span>` : 'running'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${data.queues.length === 0 ? html`<p class="muted">No queue yet: enqueue a task (POST /queues/{queue}/tasks) or start a worker.</p>` : null}
    <h3>Throughput, last 15 minutes</h3>
    <${ThroughputChart} queues=${data.queues} />
  </section>`;
}

function TaskRows({ queue, tasks }) {
  return html`<table class="tasks">
    <thead>
      <tr><th>Id</th><th>Type</th><th>Status</th><th>Attempt</th><th>Since</th><th>Info</th></tr>
    </thead>
    <tbody>
      ${tasks.map(
        (t) => html`<tr key=${t.id} data-task=${t.id}>
          <td><a href=${taskHref(queue, t.id)}>${t.id}</a></td>
          <td>${t.type ?? ''}</td>
          <td><${Status} status=${t.status} /></td>
          <td class="n">${t.attempt}</td>
          <td>${time(t.at)}</td>
          <td class="info">${t.reason ?? (t.runAt ? `due ${time(t.runAt)}` : (t.worker ?? ''))}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function QueueView({ queue, status, role }) {
  const [cursors, setCursors] = useState([undefined]);
  const [page, setPage] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [notice, setNotice] = useState(undefined);
  const [feed, setFeed] = useState([]);
  const [search, setSearch] = useState('');
  const cursor = cursors[cursors.length - 1];
  const latest = useLatest();
  const load = useCallback(async () => {
    const ticket = latest.take();
    try {
      const qs = `status=${status}&limit=${PAGE}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
      const got = await api('GET', `/queues/${enc(queue)}/tasks?${qs}`);
      if (!latest.is(ticket)) return;
      setPage(got);
      setError(undefined);
    } catch (err) {
      if (latest.is(ticket)) setError(err.message);
    }
  }, [queue, status, cursor]);
  const reload = useThrottled(load, 700);
  useEffect(() => void load(), [load]);
  useEvents((ev) => {
    // resync: the stream started afresh; reset: the queue's data was lost (what follows replays it)
    if (ev.type === 'resync' || (ev.type === 'reset' && ev.data.queue === queue)) reload();
    if (ev.type !== 'status' || ev.data.queue !== queue) return;
    setFeed((f) => [ev.data, ...f].slice(0, FEED));
    if (cursor === undefined) reload();
    else setPage((p) => p && { ...p, tasks: p.tasks.map((t) => (t.id === ev.data.id ? { ...t, ...ev.data } : t)) });
  });
  const requeueAll = async () => {
    try {
      const out = await api('POST', `/queues/${enc(queue)}/dead/requeue`, { all: true });
      setNotice(`${out.requeued} dead task(s) queued again`);
      await load();
    } catch (err) {
      setError(err.message);
    }
  };
  const find = (e) => {
    e.preventDefault();
    if (search.trim()) location.hash = taskHref(queue, search.trim());
  };
  return html`<section>
    <h2><a href="#/">Queues</a> › ${queue}</h2>
    <form class="search" role="search" onSubmit=${find}>
      <label>Task id <input name="id" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} /></label>
      <button type="submit">Find</button>
    </form>
    <nav class="tabs">
      ${STATUSES.map((s) => html`<a key=${s} href=${queueHref(queue, s)} class=${s === status ? 'current' : ''} aria-current=${s === status ? 'page' : undefined}>${s}</a>`)}
    </nav>
    <${Problem} error=${error} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${role === 'admin' && status === 'Dead' ? html`<p><button onClick=${requeueAll}>Requeue all dead</button></p>` : null}
    <div class="columns">
      <div class="list">
        ${page ? html`<${TaskRows} queue=${queue} tasks=${page.tasks} />` : html`<p class="muted">Loading…</p>`}
        ${page && page.tasks.length === 0 ? html`<p class="muted">No ${status} task.</p>` : null}
        <p class="pager">
          ${cursors.length > 1 ? html`<button onClick=${() => setCursors([undefined])}>First page</button>` : null}
          ${page?.nextCursor ? html`<button onClick=${() => setCursors([...cursors, page.nextCursor])}>Next page</button>` : null}
        </p>
      </div>
      <aside class="feed">
        <h3>Live</h3>
        ${feed.length === 0 ? html`<p class="muted">Changes of this queue's tasks show here as they happen.</p>` : null}
        <ol>
          ${feed.map(
            (r) => html`<li key=${`${r.id}:${r.seq ?? ''}:${r.status}`} data-feed=${r.id}>
              <${Status} status=${r.status} /> <a href=${taskHref(queue, r.id)}>${r.id}</a>
            </li>`,
          )}
        </ol>
      </aside>
    </div>
  </section>`;
}

function ProgressBar({ progress }) {
  if (!progress) return null;
  const detail = progress.total !== undefined ? ` (${progress.done ?? 0}/${progress.total})` : '';
  return html`<div class="progress">
    <progress max="100" value=${progress.pct}></progress>
    <span data-progress=${progress.pct}>${Math.round(progress.pct)} %${detail}</span>
    ${progress.msg ? html` <span class="muted">${progress.msg}</span>` : null}
  </div>`;
}

function TaskView({ queue, id, role }) {
  const [task, setTask] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [notice, setNotice] = useState(undefined);
  const [progress, setProgress] = useState(undefined);
  const latest = useLatest();
  const load = useCallback(async () => {
    const ticket = latest.take();
    try {
      const t = await api('GET', `/tasks/${enc(queue)}/${enc(id)}`);
      if (!latest.is(ticket)) return;
      setTask(t);
      setProgress(FINAL.has(t.status) ? undefined : t.progress);
      setError(undefined);
    } catch (err) {
      if (latest.is(ticket)) setError(err.status === 404 ? `No task ${id} in queue ${queue}.` : err.message);
    }
  }, [queue, id]);
  const reload = useThrottled(load, 300);
  useEffect(() => void load(), [load]);
  useEvents((ev) => {
    if (ev.type === 'resync') reload();
    if (ev.data.queue !== queue) return;
    if (ev.type === 'reset') reload();
    if (ev.type === 'status' && ev.data.id === id) reload();
    if (ev.type === 'progress') {
      const mine = (ev.data.tasks ?? []).find((t) => t.id === id);
      if (mine) setProgress(mine);
    }
  });
  const act = async (what) => {
    try {
      const out = await api('POST', `/tasks/${enc(queue)}/${enc(id)}/${what}`);
      setNotice(what === 'cancel' ? (out.outcome === 'running' ? 'Cancel requested: its worker stops it' : out.outcome === 'final' ? `Already ${out.status}` : 'Cancelled') : 'Queued again');
      await load();
    } catch (err) {
      setError(err.message);
    }
  };
  const head = html`<h2><a href="#/">Queues</a> › <a href=${queueHref(queue)}>${queue}</a> › <span class="id">${id}</span></h2>`;
  if (!task) return html`<section>${head}<${Problem} error=${error} />${error ? null : html`<p class="muted">Loading…</p>`}</section>`;
  const admin = role === 'admin';
  return html`<section class="task">
    ${head}
    <${Problem} error=${error} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <dl>
      <dt>Status</dt><dd><${Status} status=${task.status} /></dd>
      <dt>Type</dt><dd>${task.type ?? '(not stored)'}</dd>
      <dt>Attempt</dt><dd>${task.attempt}${task.maxAttempts ? ` of ${task.maxAttempts}` : ''}</dd>
      ${task.priority !== undefined ? html`<dt>Priority</dt><dd>${task.priority}</dd>` : null}
      ${task.enqueuedAt ? html`<dt>Enqueued</dt><dd>${time(task.enqueuedAt)}</dd>` : null}
      <dt>Last change</dt><dd>${time(task.at)}</dd>
      ${task.worker ? html`<dt>Worker</dt><dd>${task.worker}</dd>` : null}
      ${task.runAt ? html`<dt>Due</dt><dd>${time(task.runAt)}</dd>` : null}
      ${task.reason ? html`<dt>Reason</dt><dd class="reason">${task.reason}</dd>` : null}
      ${task.lastError ? html`<dt>Last error</dt><dd class="reason">${task.lastError}</dd>` : null}
    </dl>
    ${task.status === 'InProgress' || progress ? html`<h3>Progress</h3><${ProgressBar} progress=${progress} />` : null}
    ${admin
      ? html`<p class="actions">
          ${FINAL.has(task.status) ? null : html`<button onClick=${() => act('cancel')}>Cancel task</button>`}
          ${task.status === 'Dead' || task.status === 'Failed' ? html`<button onClick=${() => act('retry')}>Retry task</button>` : null}
        </p>`
      : null}
    <h3>Payload</h3>
    <pre class="payload">${jsonText(task.payload)}</pre>
    ${'result' in task ? html`<h3>Result</h3><pre class="payload result">${jsonText(task.result)}</pre>` : null}
    <h3>Failed attempts</h3>
    ${task.history.length === 0
      ? html`<p class="muted">None.</p>`
      : html`<table class="history">
          <thead><tr><th>Attempt</th><th>At</th><th>Worker</th><th>Error</th></tr></thead>
          <tbody>
            ${task.history.map(
              (h) => html`<tr key=${h.attempt}>
                <td class="n">${h.attempt}</td><td>${time(h.at)}</td><td>${h.worker}</td>
                <td><pre class="error">${h.error}${h.stack ? `\n${h.stack}` : ''}</pre></td>
              </tr>`,
            )}
          </tbody>
        </table>`}
  </section>`;
}

// (a <progress> element: the CSP allows no inline style)
function FlowProgress({ flow }) {
  return html`<span class="flow-progress" data-done=${flow.done} data-total=${flow.total}>
    <progress max=${flow.total} value=${flow.done}></progress> ${flow.done}/${flow.total}
  </span>`;
}

function FlowsView() {
  const [data, setData] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [offset, setOffset] = useState(0);
  const latest = useLatest();
  const load = useCallback(async () => {
    const ticket = latest.take();
    try {
      const got = await api('GET', `/flows?limit=${PAGE}&offset=${offset}`);
      if (!latest.is(ticket)) return;
      setData(got);
      setError(undefined);
    } catch (err) {
      if (latest.is(ticket)) setError(err.message);
    }
  }, [offset]);
  const reload = useThrottled(load, 1000);
  useEffect(() => void load(), [load]);
  useEvents((ev) => {
    if (ev.type === 'flow' || ev.type === 'resync') reload();
  });
  const head = html`<h2><a href="#/">Queues</a> › Flows</h2>`;
  if (!data) return html`<section>${head}<${Problem} error=${error} />${error ? null : html`<p class="muted">Loading…</p>`}</section>`;
  return html`<section>
    ${head}
    <${Problem} error=${error} />
    <table class="flows">
      <thead><tr><th>Flow</th><th>Status</th><th>Progress</th><th>Failed</th><th>Cancelled</th><th>Created</th><th>Ended</th><th>Reason</th></tr></thead>
      <tbody>
        ${data.flows.map(
          (f) => html`<tr key=${f.id} data-flow=${f.id}>
            <td class="id"><a href=${flowHref(f.id)}>${f.id}</a></td>
            <td><${Status} status=${f.status} /></td>
            <td><${FlowProgress} flow=${f} /></td>
            <td class="n">${f.failed}</td>
            <td class="n">${f.cancelled}</td>
            <td>${time(f.createdAt)}</td>
            <td>${time(f.endedAt)}</td>
            <td class="reason">${f.reason ?? ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${data.flows.length === 0 ? html`<p class="muted">No flows kept: add one with POST /flows, flows.add() or producer --flow.</p>` : null}
    <p class="pager">
      ${offset > 0 ? html`<button onClick=${() => setOffset(0)}>First</button>` : null}
      ${data.nextOffset !== undefined ? html`<button onClick=${() => setOffset(data.nextOffset)}>Next</button>` : null}
    </p>
  </section>`;
}

function FlowView({ id, role }) {
  const [flow, setFlow] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [notice, setNotice] = useState(undefined);
  const latest = useLatest();
  const load = useCallback(async () => {
    const ticket = latest.take();
    try {
      const f = await api('GET', `/flows/${enc(id)}`);
      if (!latest.is(ticket)) return;
      setFlow(f);
      setError(undefined);
    } catch (err) {
      if (latest.is(ticket)) setError(err.status === 404 ? `No flow ${id} (never added, or forgotten after its retention).` : err.message);
    }
  }, [id]);
  const reload = useThrottled(load, 300);
  useEffect(() => void load(), [load]);
  useEvents((ev) => {
    if (ev.type === 'resync') reload();
    else if (ev.type === 'flow' && ev.data.flow === id) reload();
    // its steps' tasks: a task id of a step is <flow id>:<step>
    else if (ev.type === 'status' && typeof ev.data.id === 'string' && ev.data.id.startsWith(`${id}:`)) reload();
  });
  const cancel = async () => {
    try {
      const out = await api('POST', `/flows/${enc(id)}/cancel`);
      setNotice(out.status === 'FlowCancelling' ? 'Cancelling: its running steps are asked to stop' : out.cancelled ? 'Cancelled' : `Already ${out.status}`);
      await load();
    } catch (err) {
      setError(err.message);
    }
  };
  const head = html`<h2><a href="#/">Queues</a> › <a href="#/flows">Flows</a> › <span class="id">${id}</span></h2>`;
  if (!flow) return html`<section>${head}<${Problem} error=${error} />${error ? null : html`<p class="muted">Loading…</p>`}</section>`;
  return html`<section class="flow">
    ${head}
    <${Problem} error=${error} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <dl>
      <dt>Status</dt><dd><${Status} status=${flow.status} /></dd>
      <dt>Progress</dt><dd><${FlowProgress} flow=${flow} /> (${flow.failed} failed, ${flow.cancelled} cancelled)</dd>
      <dt>Policy</dt><dd>${flow.policy}</dd>
      <dt>Created</dt><dd>${time(flow.createdAt)}</dd>
      ${flow.endedAt ? html`<dt>Ended</dt><dd>${time(flow.endedAt)}</dd>` : null}
      ${flow.reason ? html`<dt>Reason</dt><dd class="reason">${flow.reason}</dd>` : null}
    </dl>
    ${role === 'admin' && !FLOW_ENDED.has(flow.status) ? html`<p class="actions"><button onClick=${cancel}>Cancel flow</button></p>` : null}
    <h3>Steps</h3>
    <table class="steps">
      <thead><tr><th>Step</th><th>Queue</th><th>Task</th><th>Type</th><th>Waits for</th><th>Status</th><th>Result or error</th></tr></thead>
      <tbody>
        ${flow.steps.map(
          (s) => html`<tr key=${s.name} data-step=${s.name}>
            <td class="id">${s.name}</td>
            <td><a href=${queueHref(s.queue)}>${s.queue}</a></td>
            <td class="id">${s.status === 'Waiting' ? s.taskId : html`<a href=${taskHref(s.queue, s.taskId)}>${s.taskId}</a>`}</td>
            <td>${s.type}</td>
            <td>${s.dependsOn.join(', ') || '–'}</td>
            <td><${Status} status=${s.status === 'Released' && s.task ? s.task.status : s.status} /></td>
            <td>${'result' in s ? html`<pre class="result">${jsonText(s.result)}</pre>` : s.error ? html`<pre class="error">${s.error}</pre>` : ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function App() {
  const [route, setRoute] = useState(parseRoute());
  const [who, setWho] = useState(undefined);
  const [loginError, setLoginError] = useState(undefined);
  const [live, setLive] = useState('connecting');
  useEffect(() => {
    const onHash = () => setRoute(parseRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const signIn = useCallback(async () => {
    try {
      const me = await api('GET', '/whoami');
      setWho(me);
      setLoginError(undefined);
      startStream((state) => {
        setLive(state);
        if (state === 'unauthorized') setWho('login');
      });
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        setWho('login');
        if (token) setLoginError(err.message);
      } else {
        setWho({ error: err.message });
      }
    }
  }, []);
  useEffect(() => void signIn(), [signIn]);
  const acceptToken = (t) => {
    token = t;
    sessionStorage.setItem(TOKEN_KEY, t);
    void signIn();
  };
  const signOut = () => {
    stream?.stop();
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    setWho('login');
  };

  let main;
  if (who === undefined) main = html`<p class="muted">Loading…</p>`;
  else if (who === 'login') main = html`<${Login} error=${loginError} onToken=${acceptToken} />`;
  else if (who.error) main = html`<${Problem} error=${`The API did not answer: ${who.error}`} />`;
  // keyed: another queue, status or task is a fresh view (no cursor, rows or progress of the one before)
  else if (route.view === 'queue') main = html`<${QueueView} key=${`${route.queue}\n${route.status}`} queue=${route.queue} status=${route.status} role=${who.role} />`;
  else if (route.view === 'task') main = html`<${TaskView} key=${`${route.queue}\n${route.id}`} queue=${route.queue} id=${route.id} role=${who.role} />`;
  else if (route.view === 'flows') main = html`<${FlowsView} />`;
  else if (route.view === 'flow') main = html`<${FlowView} key=${route.id} id=${route.id} role=${who.role} />`;
  else main = html`<${QueuesView} />`;

  const signedIn = who !== undefined && who !== 'login' && !who.error;
  return html`<header>
      <h1><a href="#/">taskq</a></h1>
      <nav><a href="#/">Queues</a> <a href="#/flows">Flows</a></nav>
      ${signedIn
        ? html`<span class=${`live ${live}`} data-live=${live}>${live === 'live' ? '● live' : live}</span>
            <span class="role" data-role=${who.role}>${who.role === 'admin' ? 'admin' : 'read-only'}</span>
            ${who.auth ? html`<button class="link" onClick=${signOut}>Sign out</button>` : html`<span class="muted">no tokens configured: local access only</span>`}`
        : null}
    </header>
    <main>${main}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
