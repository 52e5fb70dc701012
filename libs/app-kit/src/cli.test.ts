import yargs from 'yargs';
import { throwingUsage, UsageError } from './cli';

const parse = (argv: string[]) =>
  throwingUsage(
    yargs(argv)
      .option('n', { type: 'number', default: 1 })
      .check((a) => {
        if (a.n < 1) throw new UsageError(`--n must be >= 1, got ${a.n}`);
        return true;
      }),
  ).parseSync();

describe('throwingUsage', () => {
  it('parses valid arguments', () => {
    expect(parse(['--n', '3']).n).toBe(3);
  });

  it.each([
    [['--frobnicate'], /Unknown argument/i],
    [['--n', '0'], /--n must be >= 1, got 0/],
  ])('throws a UsageError for %j instead of exiting', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });
});
