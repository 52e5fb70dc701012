// The API's Server-Sent Events (GET /events), read with fetch(): EventSource
// cannot send an Authorization header, and a token in the URL would end up in
// logs. Reconnects on its own and resumes with Last-Event-ID, as EventSource
// would: the API replays what changed meanwhile.

/** One SSE event from its lines (a block ended by a blank line); undefined for a comment-only block. */
export function parseEvent(block) {
  let type = 'message';
  let id;
  let retry;
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  if (data.length === 0 && id === undefined && retry === undefined) return undefined;
  return { type, id, retry, data: data.join('\n') };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class EventStream {
  /**
   * @param {{ url: string, headers: () => Record<string, string>, onEvent: (e: {type: string, data: unknown}) => void, onState: (s: string) => void }} o
   */
  constructor(o) {
    this.o = o;
    this.lastId = undefined;
    this.retryMs = 1000;
    this.stopped = true;
    this.abort = undefined;
  }

  start() {
    this.stopped = false;
    void this.loop();
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
  }

  async loop() {
    let backoff = this.retryMs;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const headers = { accept: 'text/event-stream', ...this.o.headers() };
        if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
        const res = await fetch(this.o.url, { headers, signal: this.abort.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) {
          this.o.onState('unauthorized');
          return;
        }
        if (res.status >= 400 && res.status < 500 && this.lastId !== undefined) {
          // the position was refused (400: not an id of this API's; 431: too long): start afresh, and the views read
          // everything again, since what changed meanwhile is not replayed
          this.lastId = undefined;
          this.o.onEvent({ type: 'resync', data: {} });
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.o.onState('live');
        backoff = this.retryMs;
        await this.read(res.body);
      } catch {
        // the stream broke (or was stopped): reconnect below
      }
      if (this.stopped) return;
      this.o.onState('reconnecting');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.search(/\r?\n\r?\n/); end >= 0; end = buffer.search(/\r?\n\r?\n/)) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const ev = parseEvent(block);
        if (ev === undefined) continue;
        if (ev.retry !== undefined) this.retryMs = ev.retry;
        if (ev.id !== undefined) this.lastId = ev.id;
        if (ev.data === '') continue;
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          continue;
        }
        this.o.onEvent({ type: ev.type, data });
      }
    }
  }
}
