/** The longest name Converse takes for a document. */
const MAX_NAME = 200;

/**
 * Names for a request's documents as Converse takes them
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html): 1 to 200 characters, only
 * letters and digits, single whitespace characters, hyphens, parentheses and square brackets; a client's file name
 * is rarely one ("report_2024.pdf"). Every other character becomes a hyphen, the extension goes, a file without a
 * name is "document"; and each name is made unique within the request ("document (2)"), since the model tells the
 * documents apart by name.
 */
export class DocumentNames {
  readonly #taken = new Set<string>();

  nameFor(filename: string | undefined): string {
    const base = (filename ?? '')
      .replace(/\.[A-Za-z0-9]{1,5}$/, '')
      .replace(/[^A-Za-z0-9\s()[\]-]/g, '-')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_NAME)
      .trim();
    const first = base === '' ? 'document' : base;
    let name = first;
    for (let n = 2; this.#taken.has(name); n++) {
      const suffix = ` (${n})`;
      name = `${first.slice(0, MAX_NAME - suffix.length).trimEnd()}${suffix}`;
    }
    this.#taken.add(name);
    return name;
  }
}
