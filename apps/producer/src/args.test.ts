import { MAX_COUNT, parseCount, producerOptions, yargs } from './args';

describe('parseCount', () => {
  it('reads decimal digits', () => {
    expect(parseCount('20')).toBe(20);
    expect(parseCount('007')).toBe(7);
    expect(parseCount(String(MAX_COUNT))).toBe(MAX_COUNT);
  });

  it.each([
    ['1e1', 'count must be a whole number >= 1, got "1e1": write it in decimal digits (0-9) only'],
    ['0x10', 'count must be a whole number >= 1, got "0x10": write it in decimal digits (0-9) only'],
    ['1_000', 'count must be a whole number >= 1, got "1_000"'],
    [' 5', 'count must be a whole number >= 1, got " 5": write it in decimal digits (0-9) only'],
    ['+5', 'count must be a whole number >= 1, got "+5": write it in decimal digits (0-9) only'],
    ['5.0', 'count must be a whole number >= 1, got "5.0": write it in decimal digits (0-9) only'],
    ['1.5', 'count must be a whole number >= 1, got "1.5"'],
    ['0', 'count must be a whole number >= 1, got "0"'],
    ['-3', 'count must be a whole number >= 1, got "-3"'],
    ['', 'count must be a whole number >= 1, got ""'],
    ['1000000001', 'count must be at most 1000000000, got "1000000001"'],
    ['99999999999999999999', 'count must be at most 1000000000, got "99999999999999999999"'],
  ])('refuses %j', (value, message) => {
    expect(() => parseCount(value)).toThrow(message);
  });
});

describe('producer arguments', () => {
  /** Parses like the binary; the parser's exit 2 (usage) becomes a throw, its stderr is returned. */
  const parse = (argv: string[]) => {
    const written: string[] = [];
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as typeof process.exit);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      return { args: producerOptions(yargs(argv)).parseSync(), stderr: written.join('') };
    } catch (err) {
      return { error: err as Error, stderr: written.join('') };
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  };

  it.each(['1e1', '0x10'])('count %s: usage error (exit 2) naming the value', (count) => {
    const { error, stderr } = parse([count]);
    expect(error?.message).toBe('exit 2');
    expect(stderr).toContain(`count must be a whole number >= 1, got "${count}": write it in decimal digits (0-9) only`);
  });

  it.each([
    ['ls_\uD800', 'a lone UTF-16 surrogate at index 3'],
    ['p\u0085', 'U+0085 (a control character) at index 1'],
  ])('--id-prefix %j: usage error naming the problem', (prefix, problem) => {
    const { error, stderr } = parse(['3', '--id-prefix', prefix]);
    expect(error?.message).toBe('exit 2');
    expect(stderr).toContain(problem);
  });

  it('accepts a decimal count and a well-formed prefix', () => {
    expect(parse(['1000', '--id-prefix', 'run-é-']).args).toMatchObject({ count: '1000', 'id-prefix': 'run-é-' });
  });

  it('--flow: a count of chains up to 333, a policy of failFast or continue; anything else is a usage error', () => {
    expect(parse(['5', '--flow']).args).toMatchObject({ count: '5', flow: true, 'flow-policy': 'failFast' });
    expect(parse(['333', '--flow', '--flow-policy', 'continue']).args).toMatchObject({ flow: true, 'flow-policy': 'continue' });
    const big = parse(['334', '--flow']);
    expect(big.error?.message).toBe('exit 2');
    expect(big.stderr).toContain('--flow takes at most 333 chains (a flow has at most 1000 steps), got 334');
    const policy = parse(['5', '--flow', '--flow-policy', 'sometimes']);
    expect(policy.error?.message).toBe('exit 2');
    expect(policy.stderr).toContain('Invalid values');
    const brace = parse(['5', '--flow', '--id-prefix', 'a{b}']);
    expect(brace.error?.message).toBe('exit 2');
    expect(brace.stderr).toContain('no braces');
    // without --flow, 334 tasks are fine
    expect(parse(['334']).args).toMatchObject({ flow: false });
  });

  it('--wait-replicas: a whole number of replicas and a timeout; off (0) by default; anything else a usage error', () => {
    expect(parse(['5']).args).toMatchObject({ 'wait-replicas': 0, 'wait-replicas-timeout-ms': 1000 });
    expect(parse(['5', '--wait-replicas', '1', '--wait-replicas-timeout-ms', '250']).args).toMatchObject({ 'wait-replicas': 1, 'wait-replicas-timeout-ms': 250 });
    for (const [argv, message] of [
      [['5', '--wait-replicas', '-1'], '--wait-replicas must be a whole number >= 0, got -1'],
      [['5', '--wait-replicas', '1.5'], '--wait-replicas must be a whole number >= 0, got 1.5'],
      [['5', '--wait-replicas', '1', '--wait-replicas-timeout-ms', '-5'], '--wait-replicas-timeout-ms must be a whole number >= 0, got -5'],
    ] as const) {
      const bad = parse([...argv]);
      expect(bad.error?.message).toBe('exit 2');
      expect(bad.stderr).toContain(message);
    }
  });
});
