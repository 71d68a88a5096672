/**
 * Whether an answer's text was written in blocks apart: two text blocks or more (as Claude writes an answer with
 * citations), or text after a tool call. OpenAI's one `content` joins them, and puts the text before the calls, so
 * the adapters that read such an answer (Anthropic's, Bedrock's) keep its blocks as they came (ANTHROPIC_BLOCKS) for
 * the Anthropic ingress to answer with. `kinds` are the answer's blocks in their order: text, a client tool's call,
 * or anything else (thinking).
 */
export function textWrittenApart(kinds: Iterable<'text' | 'tool' | 'other'>): boolean {
  let texts = 0;
  let called = false;
  for (const kind of kinds) {
    if (kind === 'tool') called = true;
    else if (kind === 'text' && (called || ++texts > 1)) return true;
  }
  return false;
}
