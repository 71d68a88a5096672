import { describe, expect, it } from 'vitest';
import { DocumentNames } from './document-names.js';

/** Converse's rule for a document's name: letters, digits, single whitespace, hyphens, parentheses, square brackets. */
const CONVERSE_NAME = /^(?!.*\s\s)[A-Za-z0-9\s()[\]-]{1,200}$/;

describe("a document's name on Bedrock", () => {
  it.each([
    ['report_2024.pdf', 'report-2024'],
    ['Q3 results (final).pdf', 'Q3 results (final)'],
    ['  many   spaces  .pdf', 'many spaces'],
    ['résumé.pdf', 'r-sum-'],
    ['a.b.c.pdf', 'a-b-c'],
  ])('is %j made %j, which Converse takes', (filename, name) => {
    const named = new DocumentNames().nameFor(filename);
    expect(named).toBe(name);
    expect(named).toMatch(CONVERSE_NAME);
  });

  it('is "document" for a file without a name, or one of nothing Converse takes', () => {
    const names = new DocumentNames();
    expect(names.nameFor(undefined)).toBe('document');
    expect(names.nameFor('.pdf')).toBe('document (2)');
  });

  it('is made unique within a request', () => {
    const names = new DocumentNames();
    expect([names.nameFor('a.pdf'), names.nameFor('a.pdf'), names.nameFor('a.pdf')]).toEqual(['a', 'a (2)', 'a (3)']);
  });

  it('is at most 200 characters, a suffix included', () => {
    const names = new DocumentNames();
    const long = 'x'.repeat(300);
    expect(names.nameFor(long)).toHaveLength(200);
    const second = names.nameFor(long);
    expect(second).toHaveLength(200);
    expect(second.endsWith(' (2)')).toBe(true);
  });
});

describe("a cited document's title for the client", () => {
  const names = new DocumentNames();
  names.nameFor('report_2024.pdf');
  names.nameFor('notes.pdf', null);

  it('is the title behind the name Converse cites: the file name, or none for an untitled document', () => {
    expect(names.titleOf('report-2024', 1)).toBe('report_2024.pdf');
    expect(names.titleOf('notes', 0)).toBeNull();
  });

  it('is found by the place among the documents when the name is not one given', () => {
    expect(names.titleOf('renamed by the model', 1)).toBeNull();
    expect(names.titleOf(undefined, 0)).toBe('report_2024.pdf');
  });

  it('is unknown when neither the name nor the place is one of the documents', () => {
    expect(names.titleOf('unknown', 5)).toBeUndefined();
  });
});
