/**
 * What every emulated model does alike, whatever its provider's wire format: which tools it calls, and the text it
 * reads from OpenAI-shaped content.
 */

/** The tools an emulated model calls: each one the user's last text names, in the order given, else the first. */
export function toolsCalledFor<T>(tools: readonly T[], userText: string, nameOf: (tool: T) => string): T[] {
  const named = tools.filter((tool) => userText.includes(nameOf(tool)));
  return named.length > 0 ? named : tools.slice(0, 1);
}

/** The text of OpenAI-shaped message content (Mistral's and Cohere's too): a string, or its text parts joined by spaces. */
export function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.flatMap((part: { type?: unknown; text?: unknown } | null) => (part?.type === 'text' && typeof part.text === 'string' ? [part.text] : [])).join(' ');
}
