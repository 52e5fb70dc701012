import { ArgsSyntaxError, splitArgs } from './split-args';

describe('splitArgs', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   ', []],
    ['4', ['4']],
    ['8 --queue emails --grace-ms 10000', ['8', '--queue', 'emails', '--grace-ms', '10000']],
    ['  8\t--queue\n emails  ', ['8', '--queue', 'emails']],
    [`--id-prefix 'a b'`, ['--id-prefix', 'a b']],
    [`--id-prefix "a b"`, ['--id-prefix', 'a b']],
    [`--x=''`, ['--x=']],
    [`'' ""`, ['', '']],
    [`a'b c'd`, ['ab cd']],
    [`'it''s'`, ['its']],
    [`"say \\"hi\\"" 'no \\escape'`, ['say "hi"', 'no \\escape']],
    [`"a\\b"`, ['a\\b']],
    [`a\\ b c`, ['a b', 'c']],
    ['a\\\nb', ['ab']],
    ['$HOME ~ *', ['$HOME', '~', '*']],
  ])('%j -> %j', (text, words) => {
    expect(splitArgs(text)).toEqual(words);
  });

  it.each([
    [`8 --queue 'emails`, /unterminated single quote/],
    [`"8`, /unterminated double quote/],
    [`8 \\`, /trailing backslash/],
  ])('%j is refused', (text, message) => {
    expect(() => splitArgs(text)).toThrow(ArgsSyntaxError);
    expect(() => splitArgs(text)).toThrow(message);
  });
});
