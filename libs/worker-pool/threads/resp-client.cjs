'use strict';
// The heartbeat thread's Redis client: one connection, commands answered in
// order, RESP2 replies (simple strings, errors, integers, bulk strings,
// arrays). The thread is a fresh V8 isolate: loading ioredis there cost about
// 100 ms of CPU at every worker start, on top of the thread's own 65 ms, while
// the pool's first tasks were running. The heartbeat needs one script call a
// second, which this small client does. URLs it does not cover (query
// options, a user name without a password, other schemes) go to ioredis, see
// parseRedisUrl.
//
// A dropped connection fails the commands in flight; the next command
// connects again (the heartbeat's next beat, a second later).
const net = require('node:net');
const tls = require('node:tls');

const CONNECT_TIMEOUT_MS = 10_000;

/** An error reply of Redis ('-ERR ...', '-NOSCRIPT ...'); message without the dash. */
class RedisReplyError extends Error {}

/**
 * { host, port, tls, username, password, db } of a redis:// or rediss://
 * URL, or undefined when the URL has anything else (query options, a user
 * name without a password, another scheme): ioredis reads those.
 */
function parseRedisUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return undefined;
  if (u.search !== '' || u.hash !== '' || u.hostname === '') return undefined;
  if (u.username !== '' && u.password === '') return undefined;
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) return undefined;
  let username, password;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    return undefined; // a malformed %-escape: ioredis reports it
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 6379 : Number(u.port),
    tls: u.protocol === 'rediss:',
    username,
    password,
    db: path === '' ? 0 : Number(path),
  };
}

/** A command as RESP: an array of bulk strings. */
function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const s = String(arg);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * One reply from buf at pos: { value, pos } (pos after it), or undefined when
 * buf does not hold all of it yet. Integers are numbers, bulk strings are
 * strings, nil is null, an error reply is a RedisReplyError.
 */
function parseReply(buf, pos) {
  if (pos >= buf.length) return undefined;
  const end = buf.indexOf('\r\n', pos);
  if (end === -1) return undefined;
  const type = buf[pos];
  const line = buf.toString('utf8', pos + 1, end);
  const next = end + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, pos: next };
    case 0x2d: // -
      return { value: new RedisReplyError(line), pos: next };
    case 0x3a: // :
      return { value: Number(line), pos: next };
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return { value: null, pos: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), pos: next + len + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, pos: next };
      const items = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, p);
        if (item === undefined) return undefined;
        items.push(item.value);
        p = item.pos;
      }
      return { value: items, pos: p };
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(buf.toString('utf8', pos, Math.min(buf.length, pos + 40)))}`);
  }
}

class RespClient {
  /**
   * options: parseRedisUrl's result; name: the connection's CLIENT SETNAME;
   * commandTimeoutMs: a command not answered within it drops the connection
   * (a server that accepts connections but never answers must not hold the
   * heartbeat forever), 0 = none.
   */
  constructor(options, name, commandTimeoutMs = 0) {
    this.options = options;
    this.name = name;
    this.commandTimeoutMs = commandTimeoutMs;
    this.socket = undefined;
    this.ready = undefined; // promise of the connection, handshake included
    this.pending = []; // { resolve, reject } per command written, in order
    this.buffer = Buffer.alloc(0);
  }

  /** Sends a command; resolves with its reply, rejects with its error reply or a connection error. */
  async call(...args) {
    if (this.ready === undefined) this.ready = this.connect();
    await this.ready;
    if (this.commandTimeoutMs <= 0) return this.send(args);
    const socket = this.socket;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`no reply from Redis within ${this.commandTimeoutMs} ms`);
        if (socket !== undefined) this.drop(socket, err);
        reject(err);
      }, this.commandTimeoutMs);
    });
    try {
      return await Promise.race([this.send(args), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  send(args) {
    return new Promise((resolve, reject) => {
      if (this.socket === undefined) {
        reject(new Error('connection to Redis closed'));
        return;
      }
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  connect() {
    const o = this.options;
    return new Promise((resolve, reject) => {
      const onOpen = () => {
        clearTimeout(timer);
        // As ioredis does: a password the server does not ask for is no
        // error, and neither is a name it refuses (spaces or other
        // characters in a user-given consumer id, CLIENT renamed away).
        const handshake = [];
        if (o.password !== '') {
          const auth = o.username !== '' ? ['AUTH', o.username, o.password] : ['AUTH', o.password];
          handshake.push(this.send(auth).catch((err) => {
            if (!/no password is set|without any password configured/.test(String(err.message))) throw err;
          }));
        }
        if (o.db !== 0) handshake.push(this.send(['SELECT', String(o.db)]));
        if (this.name) handshake.push(this.send(['CLIENT', 'SETNAME', this.name]).catch(() => undefined));
        Promise.all(handshake).then(
          () => resolve(),
          (err) => {
            this.drop(socket, err);
            reject(err);
          },
        );
      };
      const socket = o.tls
        ? tls.connect({ host: o.host, port: o.port, servername: net.isIP(o.host) ? undefined : o.host }, onOpen)
        : net.connect({ host: o.host, port: o.port }, onOpen);
      this.socket = socket;
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      socket.on('data', (chunk) => this.onData(socket, chunk));
      socket.on('error', (err) => {
        clearTimeout(timer);
        this.drop(socket, err);
        reject(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        const err = new Error('connection to Redis closed');
        this.drop(socket, err);
        reject(err);
      });
    });
  }

  onData(socket, chunk) {
    if (socket !== this.socket) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let pos = 0;
    for (;;) {
      let reply;
      try {
        reply = parseReply(this.buffer, pos);
      } catch (err) {
        this.drop(socket, err);
        return;
      }
      if (reply === undefined) break;
      pos = reply.pos;
      const waiter = this.pending.shift();
      if (waiter === undefined) continue; // nothing asked for it (cannot happen in RESP2)
      if (reply.value instanceof RedisReplyError) waiter.reject(reply.value);
      else waiter.resolve(reply.value);
    }
    this.buffer = pos === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(pos);
  }

  /** socket is gone: commands in flight on it fail, the next call connects again. */
  drop(socket, err) {
    if (!socket.destroyed) socket.destroy();
    if (socket !== this.socket) return; // an earlier connection's late event
    this.socket = undefined;
    this.ready = undefined;
    this.buffer = Buffer.alloc(0);
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }

  /** Sends QUIT if connected, then closes. */
  async quit() {
    if (this.ready === undefined) return;
    try {
      await this.ready;
      await this.send(['QUIT']);
    } catch {
      // closing anyway
    }
    this.disconnect();
  }

  /** Closes at once; commands in flight fail. */
  disconnect() {
    if (this.socket !== undefined) this.drop(this.socket, new Error('disconnected'));
  }
}

module.exports = { RespClient, RedisReplyError, parseRedisUrl, parseReply, encodeCommand };
