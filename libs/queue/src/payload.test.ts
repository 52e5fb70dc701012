import { MAX_PAYLOAD_DEPTH, payloadProblem } from './payload';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('payloadProblem', () => {
  it('accepts plain JSON data, which comes back from JSON unchanged', () => {
    const shared = { n: 1 };
    const payloads: unknown[] = [
      null,
      'text with a lone surrogate \uD800 (JSON escapes it)',
      true,
      0,
      -1.5e300,
      [],
      {},
      { to: 'a@b.c', tags: ['x', 'y'], nested: { deep: [1, [2, [3, { ok: null }]]] } },
      [shared, shared], // shared, not a cycle: JSON writes it twice
      Object.assign(Object.create(null) as object, { a: 1 }),
    ];
    for (const payload of payloads) {
      expect(payloadProblem(payload)).toBeUndefined();
      expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
    }
  });

  it('leaves out properties whose value is undefined, as JSON does (they read undefined either way)', () => {
    expect(payloadProblem({ to: 'a', cc: undefined })).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ['NaN', { a: NaN }, 'payload.a is NaN, which JSON cannot represent (it would arrive as null)'],
    ['Infinity', { a: [1, Infinity] }, 'payload.a[1] is Infinity, which JSON cannot represent'],
    ['-Infinity', -Infinity, 'payload is -Infinity, which JSON cannot represent'],
    ['a bigint', { n: 10n }, 'payload.n is a bigint (10n), which JSON cannot represent: send it as a string'],
    ['a function', { run() {} }, 'payload.run is a function (run), which JSON cannot represent'],
    ['a function at the top', () => 1, 'payload is a function, which JSON cannot represent'],
    ['a symbol', { s: Symbol('x') }, 'payload.s is a symbol (Symbol(x)), which JSON cannot represent'],
    ['undefined in an array', [1, undefined], 'payload[1] is undefined, which JSON turns into null'],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    ['an empty array slot', [1, , 3], 'payload[1] is an empty array slot, which JSON turns into null'],
    ['a Map', { m: new Map([['k', 1]]) }, 'payload.m is a Map, which JSON cannot represent unchanged: send plain objects and arrays'],
    ['a Set', [new Set([1])], 'payload[0] is a Set, which JSON cannot represent unchanged'],
    ['a Date', { at: new Date(0) }, 'payload.at is a Date, which JSON turns into a string: send date.toISOString() or date.getTime()'],
    ['a class instance', { p: new Point(1, 2) }, 'payload.p is an instance of Point, which JSON cannot represent unchanged'],
    ['a typed array', { b: new Uint8Array(2) }, 'payload.b is a Uint8Array'],
    ['a Buffer', { b: Buffer.from('x') }, 'payload.b is a Buffer'],
    ['a boxed string', { s: new String('x') }, 'payload.s is a String'],
    ['an Error', { e: new TypeError('x') }, 'payload.e is an instance of TypeError'],
    ['a key that is no identifier', { 'a b': { 'c-d': NaN } }, 'payload["a b"]["c-d"] is NaN'],
  ])('refuses %s, naming its path', (_what, payload, message) => {
    expect(payloadProblem(payload)).toContain(message);
  });

  it('refuses a cycle, naming where it closes', () => {
    const root: Record<string, unknown> = { a: { b: {} } };
    (root['a'] as { b: Record<string, unknown> }).b['back'] = root['a'];
    expect(payloadProblem(root)).toBe('payload.a.b.back refers back to payload.a (a cycle), which JSON cannot represent');
    const self: unknown[] = [1];
    self.push(self);
    expect(payloadProblem(self)).toBe('payload[1] refers back to payload (a cycle), which JSON cannot represent');
  });

  it('refuses a payload nested deeper than the limit instead of running out of stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_PAYLOAD_DEPTH; i++) deep = [deep];
    expect(payloadProblem(deep)).toBeUndefined();
    let tooDeep: unknown = 1;
    for (let i = 0; i < 100_000; i++) tooDeep = { a: tooDeep };
    expect(payloadProblem(tooDeep)).toMatch(/^payload(\.a){1000} nests deeper than 1000 levels$/);
  });
});
