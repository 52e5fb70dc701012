import { formatFields, formatTable } from './table';

describe('formatTable', () => {
  it('pads each column to its widest cell, right-aligns numbers, leaves no trailing blanks', () => {
    const text = formatTable(
      [{ header: 'QUEUE' }, { header: 'READY', numeric: true }, { header: 'PAUSED' }],
      [
        ['default', '3', 'no'],
        ['emails-long', '12345', 'yes: deploy'],
      ],
    );
    expect(text).toBe(['QUEUE        READY  PAUSED', 'default          3  no', 'emails-long  12345  yes: deploy', ''].join('\n'));
  });

  it('shows a line break or tab inside a cell as a space, so that a row stays one line', () => {
    expect(formatTable([{ header: 'A' }, { header: 'B' }], [['x\ny', 'p\tq']])).toBe('A    B\nx y  p q\n');
  });
});

describe('formatFields', () => {
  it('aligns the values after the longest key', () => {
    expect(formatFields([['id', 't1'], ['priority', '9']])).toBe('id:       t1\npriority: 9\n');
  });
});
