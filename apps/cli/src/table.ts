/** A column of a table: its header and whether its cells are numbers (right-aligned). */
export interface Column {
  readonly header: string;
  readonly numeric?: boolean;
}

/**
 * A plain text table: a header line, then one line per row, columns separated
 * by two spaces, each as wide as its widest cell; numbers right-aligned, the
 * last column not padded (no trailing blanks). Cells are printed as they are:
 * a tab or line break in one is shown as a space.
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const clean = (cell: string | undefined): string => (cell ?? '').replace(/[\t\r\n]+/g, ' ');
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((_, i) => clean(r[i])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => [...r[i]].length)));
  const lines = cells.map((r) =>
    r
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - [...cell].length);
        if (columns[i].numeric) return pad + cell;
        return i === columns.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** `key: value` lines, the keys padded to one width (task show). */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`.trimEnd()).join('\n') + '\n';
}
