import { InvalidRedisUrlError } from './errors/invalid-redis-url-error';
import { assertValidRedisUrl, redactUrl } from './connect';
import { RedisHandle } from './redis-handle';
import { isSentinelUrl, parseSentinelUrl, redactSentinelUrl, sentinelClientDefaults, sentinelOptionsOf } from './sentinel-url';

describe('redis+sentinel:// URLs', () => {
  it('reads the sentinels, the master name, credentials, database and sentinel credentials', () => {
    expect(parseSentinelUrl('redis+sentinel://app:s%40cret@10.0.0.1:26380,[::1],sentinel-c:5000/orders/3?sentinelUsername=watch&sentinelPassword=p%26w')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: '::1', port: 26379 },
        { host: 'sentinel-c', port: 5000 },
      ],
      name: 'orders',
      username: 'app',
      password: 's@cret',
      db: 3,
      sentinelUsername: 'watch',
      sentinelPassword: 'p&w',
    });
    expect(parseSentinelUrl('REDIS+SENTINEL://h1/mymaster/')).toEqual({ sentinels: [{ host: 'h1', port: 26379 }], name: 'mymaster', db: 0 });
    // a lone user part is a password, as ioredis reads redis://secret@host
    expect(parseSentinelUrl('redis+sentinel://secret@h1:1/m')).toMatchObject({ password: 'secret' });
    expect(parseSentinelUrl('redis+sentinel://secret@h1:1/m').username).toBeUndefined();
  });

  it('turns into the ioredis options of a sentinel client (plain data a thread can be given)', () => {
    const options = sentinelOptionsOf(parseSentinelUrl('redis+sentinel://u:p@h1:1,h2:2/grp/2?sentinelPassword=sp'));
    expect(options).toEqual({ sentinels: [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }], name: 'grp', username: 'u', password: 'p', db: 2, sentinelPassword: 'sp' });
    expect(structuredClone(options)).toEqual(options);
  });

  it.each([
    ['redis+sentinel://h1:26379', /no master name/],
    ['redis+sentinel:///mymaster', /no sentinel/],
    ['redis+sentinel://h1:0/m', /port from 1 to 65535, got "h1:0"/],
    ['redis+sentinel://h1:99999/m', /port from 1 to 65535/],
    ['redis+sentinel://h1:abc/m', /each sentinel is host or host:port/],
    ['redis+sentinel://h1,/m', /got ""/],
    ['redis+sentinel://h1/m/x', /only a database number/],
    ['redis+sentinel://h1/m/1/2', /only a database number/],
    ['redis+sentinel://h1/m?timeout=5', /unknown option "timeout"/],
    ['redis+sentinel://h1/m#x', /no #fragment/],
    ['redis+sentinel://u:%zz@h1/m', /malformed %-escape/],
  ])('refuses %s with a clear message', (url, message) => {
    expect(() => parseSentinelUrl(url)).toThrow(InvalidRedisUrlError);
    expect(() => parseSentinelUrl(url)).toThrow(message);
    expect(() => assertValidRedisUrl(url)).toThrow(message);
  });

  it('never shows a password in its messages or when printed', () => {
    const url = 'redis+sentinel://app:hunter2@h1:0/m?sentinelPassword=swordfish';
    expect(() => parseSentinelUrl(url)).toThrow('redis+sentinel://***@h1:0/m?sentinelPassword=***');
    for (const shown of [redactSentinelUrl(url), redactUrl(url), new RedisHandle('redis+sentinel://app:hunter2@h1/m?sentinelPassword=swordfish').address]) {
      expect(shown).not.toMatch(/hunter2|swordfish/);
    }
    expect(redactUrl('redis+sentinel://h1:1,h2:2/m')).toBe('redis+sentinel://h1:1,h2:2/m');
  });

  it('is told apart from other URLs', () => {
    expect(isSentinelUrl('redis+sentinel://h/m')).toBe(true);
    expect(isSentinelUrl('redis://h')).toBe(false);
    expect(isSentinelUrl('redis+cluster://h:1')).toBe(false);
    expect(() => assertValidRedisUrl('sentinel://h/m')).toThrow(/redis\+sentinel:\/\/ to a master through Redis Sentinel/);
  });

  it('gives a heartbeat thread the sentinel options, not the URL', () => {
    const handle = new RedisHandle('redis+sentinel://:pw@h1:1,h2:2/grp');
    expect(handle.threadTarget()).toEqual({ options: { sentinels: [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }], name: 'grp', password: 'pw' } });
  });

  it('makes a sentinel client follow a failover and send again a write refused as READONLY', () => {
    const defaults = sentinelClientDefaults({ sentinels: [{ host: 'h', port: 1 }], name: 'm' });
    expect(defaults.failoverDetector).toBe(true);
    const reconnect = defaults.reconnectOnError as (err: Error) => boolean | 1 | 2;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect(new Error('ERR something else'))).toBe(false);
    // the caller's own choices are kept; a plain server gets nothing
    const own = (): boolean => false;
    expect(sentinelClientDefaults({ sentinels: [{ host: 'h', port: 1 }], failoverDetector: false, reconnectOnError: own })).toEqual({ failoverDetector: false, reconnectOnError: own });
    expect(sentinelClientDefaults({ host: 'h', port: 1 })).toEqual({});
  });
});
