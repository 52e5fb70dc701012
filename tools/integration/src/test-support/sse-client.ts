import { withTimeout } from './wait';

/** One Server-Sent Event as a client dispatches it. */
export interface SseEvent {
  /** The id field of this event, if it had one. */
  readonly id: string | undefined;
  /** The last id seen up to this event (what an EventSource would send as Last-Event-ID). */
  readonly lastId: string | undefined;
  readonly event: string;
  readonly data: string;
  /** `data` parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

export interface SseOpenOptions {
  readonly token?: string;
  readonly lastEventId?: string;
}

const open = new Set<SseClient>();

/**
 * A fetch()-based SSE client (as the dashboard reads GET /events: fetch with
 * an Authorization header, not EventSource), parsing the stream as the SSE
 * spec says: fields per line, an event at each blank line, `:` comments.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  /** Comment lines (without the colon), e.g. ' keepalive'. */
  readonly comments: string[] = [];
  /** Every byte received, as text. */
  raw = '';
  /** The last id field seen (an EventSource's last event ID). */
  lastId: string | undefined;
  /** Settles when the stream has ended (closed by the server, or by close()). */
  readonly ended: Promise<void>;
  private endedFlag = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly controller: AbortController,
    body: ReadableStream<Uint8Array> | null,
    private readonly what: string,
  ) {
    this.ended = this.read(body);
  }

  /** GETs `base + path` and starts reading its events (any status: check `status`). */
  static async open(base: string, path: string, options: SseOpenOptions = {}): Promise<SseClient> {
    const controller = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const res = await fetch(`${base}${path}`, { headers, signal: controller.signal });
    const client = new SseClient(res.status, res.headers, controller, res.body, `GET ${path}`);
    open.add(client);
    return client;
  }

  /** Whether the stream has ended. */
  get done(): boolean {
    return this.endedFlag;
  }

  /** The first event (from the start) that matches, waiting for it if need be. */
  async waitFor(match: (e: SseEvent) => boolean, what: string, timeoutMs = 15_000): Promise<SseEvent> {
    return this.waitUntil(() => this.events.find(match), what, timeoutMs);
  }

  /** Waits until `check` gives something (checked at every event received and at the end). */
  async waitUntil<T>(check: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
    const found = check();
    if (found !== undefined && found !== false) return found;
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        const test = (): void => {
          const value = check();
          if (value !== undefined && value !== false) {
            this.waiters.delete(test);
            resolve(value);
          } else if (this.endedFlag) {
            this.waiters.delete(test);
            reject(new Error(`${this.what} ended before ${what}`));
          }
        };
        this.waiters.add(test);
      }),
      timeoutMs,
      `${what} on ${this.what}`,
      () => `events so far: ${this.events.map((e) => `${e.event} ${e.data}`).slice(-10).join('\n')}`,
    );
  }

  /** Closes the connection (the client goes away). */
  async close(): Promise<void> {
    this.controller.abort();
    await this.ended;
  }

  private async read(body: ReadableStream<Uint8Array> | null): Promise<void> {
    let buffer = '';
    let fields: { id?: string; event?: string; data: string[] } = { data: [] };
    const decoder = new TextDecoder();
    try {
      if (!body) return;
      const reader = body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        this.raw += text;
        buffer += text;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (fields.id !== undefined) this.lastId = fields.id;
            if (fields.data.length > 0) {
              const data = fields.data.join('\n');
              let json: Record<string, unknown> | undefined;
              try {
                json = JSON.parse(data) as Record<string, unknown>;
              } catch {
                json = undefined;
              }
              this.events.push({ id: fields.id, lastId: this.lastId, event: fields.event ?? 'message', data, json });
            }
            fields = { data: [] };
            this.notify();
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1));
            this.notify();
          } else {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'id') fields.id = value;
            else if (name === 'event') fields.event = value;
            else if (name === 'data') fields.data.push(value);
          }
        }
      }
    } catch {
      // aborted by close(), or the connection was cut
    } finally {
      this.endedFlag = true;
      open.delete(this);
      this.notify();
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Closes every stream still open (afterEach). */
export async function closeAllSse(): Promise<void> {
  await Promise.all([...open].map((c) => c.close()));
}
