import { describe, expect, it } from 'vitest';
import { bar, barChart, textTable } from './bar-chart.js';

describe('bar charts for the terminal', () => {
  it('draws a bar in whole blocks and an eighth for what is left, scaled to the largest', () => {
    expect(bar(1, 2, 4)).toBe('██');
    expect(bar(2, 2, 4)).toBe('████');
    // 1/3 of 4 characters is 10.67 eighths: one block and three eighths.
    expect(bar(1, 3, 4)).toBe('█▍');
    // More than the most is drawn at full length; a tiny share still shows.
    expect(bar(5, 2, 4)).toBe('████');
    expect(bar(0.0001, 100, 4)).toBe('▏');
  });

  it('draws nothing for nothing, or for a scale of nothing', () => {
    expect(bar(0, 10, 4)).toBe('');
    expect(bar(1, 0, 4)).toBe('');
    expect(bar(Number.NaN, 10, 4)).toBe('');
  });

  it('aligns the labels, the bars and the notes of a chart', () => {
    expect(barChart([{ label: 'day one', value: 2, note: '$2' }, { label: 'two', value: 1, note: '$1' }], 4)).toEqual(['day one  ████  $2', 'two      ██    $1']);
  });

  it('aligns a table in columns, numbers to the right', () => {
    expect(textTable([['NAME', 'CALLS'], ['a', '1'], ['bb', '1,200']], new Set([1]))).toEqual(['NAME  CALLS', 'a         1', 'bb    1,200']);
  });
});
