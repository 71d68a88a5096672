const UNIT = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

/** Parses `512kb`, `10mb`, `1gb` or a plain byte count; undefined when it is none of those. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)(b|kb|mb|gb)?$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  return Number(match[1]) * UNIT[(match[2] ?? 'b') as keyof typeof UNIT];
}
