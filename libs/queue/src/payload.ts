/**
 * The payload rule: a payload travels as JSON, so it must come back from
 * `JSON.parse(JSON.stringify(payload))` as the same data. Allowed: null,
 * booleans, finite numbers, strings, arrays and plain objects (prototype
 * `Object.prototype` or null) of those. Everything JSON would turn into
 * something else is refused rather than stored changed:
 *
 * - NaN and ±Infinity (JSON writes null), bigint (JSON throws);
 * - functions and symbols (dropped from objects, null in arrays);
 * - `undefined` and empty slots in arrays (null);
 * - objects that are not plain: Date (a string, via toJSON), Map and Set
 *   (`{}`), class instances (their methods and prototype are lost), boxed
 *   primitives, typed arrays, Buffer, RegExp, Error, anything with toJSON;
 * - cycles (JSON throws).
 *
 * Two deliberate allowances: a property whose value is `undefined` is left
 * out (`{ a: undefined }` arrives as `{}`, and `payload.a` reads undefined
 * either way), and -0 arrives as 0.
 */

/** A key that needs no quoting in a path (`payload.to`, else `payload["a b"]`). */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** How deep a payload may nest; deeper ones are refused before the walk (or JSON) runs out of stack. */
export const MAX_PAYLOAD_DEPTH = 1000;

/** Thrown inside the walk; the path is assembled on the way out, so a payload that passes pays nothing for it. */
class Problem extends Error {
  /** Path steps from the failing value up to the payload (`[2]`, `.a`, ...), innermost first. */
  readonly steps: string[] = [];

  constructor(
    readonly what: string,
    /** For a cycle: how many levels up the object it refers back to is. */
    readonly cycleUp?: number,
  ) {
    super(what);
  }

  describe(): string {
    const path = `payload${[...this.steps].reverse().join('')}`;
    if (this.cycleUp === undefined) return `${path} ${this.what}`;
    const target = `payload${[...this.steps].reverse().slice(0, this.steps.length - this.cycleUp).join('')}`;
    return `${path} refers back to ${target} (a cycle), which JSON cannot represent`;
  }
}

/**
 * Why `payload` would not survive JSON unchanged, as
 * `payload.a[2] is NaN, which JSON cannot represent`; undefined when it is
 * plain JSON data. One walk of the value, no copy.
 */
export function payloadProblem(payload: unknown): string | undefined {
  if (payload === null || typeof payload === 'string' || typeof payload === 'boolean') return undefined;
  try {
    check(payload, []);
    return undefined;
  } catch (err) {
    if (err instanceof Problem) return err.describe();
    throw err;
  }
}

/** Throws a Problem for the first value inside `value` that is not plain JSON data. */
function check(value: unknown, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new Problem(`is ${value}, which JSON cannot represent (it would arrive as null)`);
      return;
    case 'bigint':
      throw new Problem(`is a bigint (${value}n), which JSON cannot represent: send it as a string`);
    case 'undefined':
      throw new Problem('is undefined, which JSON cannot represent (it would arrive as null)');
    case 'function':
      throw new Problem(`is a function${value.name ? ` (${value.name})` : ''}, which JSON cannot represent`);
    case 'symbol':
      throw new Problem(`is a symbol (${value.toString()}), which JSON cannot represent`);
  }
  if (value === null) return;
  const object = value as object;
  const seenAt = ancestors.lastIndexOf(object);
  if (seenAt >= 0) throw new Problem('', ancestors.length - seenAt);
  if (ancestors.length >= MAX_PAYLOAD_DEPTH) throw new Problem(`nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  ancestors.push(object);
  if (Array.isArray(object)) {
    const array = object as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (item === null || typeof item === 'string' || typeof item === 'boolean') continue;
      if (item === undefined && !(i in array)) rethrowInside(new Problem('is an empty array slot, which JSON turns into null'), `[${i}]`);
      if (item === undefined) rethrowInside(new Problem('is undefined, which JSON turns into null'), `[${i}]`);
      try {
        check(item, ancestors);
      } catch (err) {
        rethrowInside(err, `[${i}]`);
      }
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(object);
    // Object.prototype of this realm, or of another one (vm, iframes): its own prototype is null
    if (proto !== null && proto !== Object.prototype && Object.getPrototypeOf(proto) !== null) {
      throw new Problem(
        object instanceof Date
          ? 'is a Date, which JSON turns into a string: send date.toISOString() or date.getTime()'
          : `is ${describeObject(object)}, which JSON cannot represent unchanged: send plain objects and arrays`,
      );
    }
    const record = object as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      // undefined: left out by JSON, and reads undefined either way
      if (item === undefined || item === null || typeof item === 'string' || typeof item === 'boolean') continue;
      try {
        check(item, ancestors);
      } catch (err) {
        rethrowInside(err, IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      }
    }
  }
  ancestors.pop();
}

/** Adds one path step to a Problem coming out of a child and throws it on (other errors pass through). */
function rethrowInside(err: unknown, step: string): never {
  if (err instanceof Problem) err.steps.push(step);
  throw err;
}

/** `a Map`, `an instance of Point`, `an object with a toJSON method`. */
function describeObject(object: object): string {
  const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name === 'string' && name !== '') {
    const builtin = /^(Map|Set|WeakMap|WeakSet|RegExp|Error|Promise|Buffer|ArrayBuffer|DataView|String|Number|Boolean|URL|(Big)?(Int|Uint|Float)\d+(Clamped)?Array)$/.test(name);
    return builtin ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : `an instance of ${name}`;
  }
  return typeof (object as { toJSON?: unknown }).toJSON === 'function' ? 'an object with a toJSON method' : 'an object that is not a plain object';
}
