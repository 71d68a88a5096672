import type { CallContext } from '../provider.js';

/** The longest name Converse takes for a document. */
const MAX_NAME = 200;

/**
 * Names for a request's documents as Converse takes them
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html): 1 to 200 characters, only
 * letters and digits, single whitespace characters, hyphens, parentheses and square brackets; a client's file name
 * is rarely one ("report_2024.pdf"). Every other character becomes a hyphen, the extension goes, a file without a
 * name is "document"; and each name is made unique within the request ("document (2)"), since the model tells the
 * documents apart by name. It keeps the client's title behind each name, which a citation of the document is told
 * by (titleOf).
 */
export class DocumentNames {
  /** Each name given, with the client's title for the document (null: it had none). */
  readonly #titles = new Map<string, string | null>();

  /** The name Converse is sent for a file named `filename`, whose title for the client is `title` (its name unless said). */
  nameFor(filename: string | undefined, title: string | null = filename ?? null): string {
    const base = (filename ?? '')
      .replace(/\.[A-Za-z0-9]{1,5}$/, '')
      .replace(/[^A-Za-z0-9\s()[\]-]/g, '-')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_NAME)
      .trim();
    const first = base === '' ? 'document' : base;
    let name = first;
    for (let n = 2; this.#titles.has(name); n++) {
      const suffix = ` (${n})`;
      name = `${first.slice(0, MAX_NAME - suffix.length).trimEnd()}${suffix}`;
    }
    this.#titles.set(name, title);
    return name;
  }

  /**
   * The client's title for the document Converse cites by `name` (a citation's `title`), or by its place among the
   * request's documents when the name is not one given; undefined when neither is.
   */
  titleOf(name: string | undefined, index: number | undefined): string | null | undefined {
    if (name !== undefined && this.#titles.has(name)) return this.#titles.get(name);
    if (index === undefined) return undefined;
    return [...this.#titles.values()][index];
  }
}

/** The names a Bedrock call's request gave its documents, by the call: its answer's citations are told the titles. */
export const documentNamesOf = new WeakMap<CallContext, DocumentNames>();
