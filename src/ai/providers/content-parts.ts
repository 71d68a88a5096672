import type { ChatMessage, ContentPart } from '../chat-types.js';
import { cannotServe } from './cannot-serve.js';

/**
 * An image part's URL, for a provider whose API takes text and images only. Any other part OpenAI's API has
 * (`input_audio`, `file`…), which OpenAI-format providers take as they are, is one this provider has no
 * counterpart for: 400 `unsupported_parameter`, naming the part (its path, `where`, as the error's `param` too),
 * rather than a part dropped or a failure.
 */
export function imageUrlOf(part: ContentPart, where: string, provider: string): string {
  if (part.type === 'image_url') return part.image_url.url;
  const type = (part as { type: string }).type;
  throw cannotServe(where, `${where} is a "${type}" part, which ${provider} does not take: send text and image_url parts`);
}

/**
 * A message's text, for a provider that takes one text where OpenAI's API takes parts: its text parts one to a line,
 * as the Anthropic and Gemini adapters always joined them, so that "Hello" and "world" do not become "Helloworld".
 */
export function textOf(content: ChatMessage['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}
