/** Eighths of a block, for bars that end between two characters. */
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `value` out of `most`, `width` characters at full length, drawn to an eighth of a character. */
export function bar(value: number, most: number, width: number): string {
  if (!(most > 0) || !(value > 0)) return '';
  const eighths = Math.max(1, Math.round((Math.min(value, most) / most) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

export interface Bar {
  label: string;
  value: number;
  /** Printed after the bar: the value as it should read ($0.41, 1,204 calls). */
  note: string;
}

/** Labelled horizontal bars scaled to the largest, one line each, their labels and bars aligned. */
export function barChart(bars: readonly Bar[], width = 40): string[] {
  const most = Math.max(0, ...bars.map((b) => b.value));
  const labelWidth = Math.max(0, ...bars.map((b) => b.label.length));
  return bars.map((b) => `${b.label.padEnd(labelWidth)}  ${bar(b.value, most, width).padEnd(width)}  ${b.note}`.trimEnd());
}

/** Rows of text in columns, the first row the heading; columns named in `right` aligned right (numbers). */
export function textTable(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
