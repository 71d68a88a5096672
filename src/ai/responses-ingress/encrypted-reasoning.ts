import type { PurposeSealer } from '../../keys/index.js';
import type { AnthropicBlock } from '../chat-types.js';
import { isJsonObject } from '../json-object.js';
import type { ResponseObject } from './wire-types.js';

/** What a reasoning item's `encrypted_content` is sealed for: no other sealed value of Keygate's opens as one. */
export const ENCRYPTED_REASONING_PURPOSE = 'responses.reasoning.encrypted_content';

/** The `include` value that asks for reasoning items' `encrypted_content` (https://platform.openai.com/docs/api-reference/responses/create#responses-create-include). */
export const ENCRYPTED_REASONING_INCLUDE = 'reasoning.encrypted_content';

/**
 * A reasoning item's `encrypted_content` (https://platform.openai.com/docs/guides/reasoning#encrypted-reasoning-items)
 * as Keygate makes it: Claude's thinking and redacted_thinking blocks, signatures included, sealed under the master
 * key for one owner, so that a client that keeps no state (`store: false`) can give them back and Claude gets its
 * thinking back, and a token that reaches another owner gives that owner's calls nothing of it.
 */
export interface EncryptedReasoning {
  /** The thinking blocks among `blocks` (an answer's ANTHROPIC_BLOCKS) sealed; undefined when there are none. */
  seal(blocks: readonly AnthropicBlock[] | undefined): string | undefined;
  /** The thinking blocks of an `encrypted_content` Keygate sealed for this owner; undefined for any other (another owner's, OpenAI's, another gateway's, tampered). */
  open(encrypted: unknown): AnthropicBlock[] | undefined;
}

/** A thinking block's members, and nothing else: a sealed value holds only what Claude wrote. */
function thinkingBlock(block: unknown): AnthropicBlock | undefined {
  if (!isJsonObject(block)) return undefined;
  if (block.type === 'thinking' && typeof block.thinking === 'string' && typeof block.signature === 'string') return { type: 'thinking', thinking: block.thinking, signature: block.signature };
  if (block.type === 'redacted_thinking' && typeof block.data === 'string') return { type: 'redacted_thinking', data: block.data };
  return undefined;
}

/**
 * EncryptedReasoning for `owner`'s calls (whose a stored Response is: an app, an outside issuer's user, an open
 * route), over a sealer made for ENCRYPTED_REASONING_PURPOSE: what it seals opens for the same owner only. Were the
 * thinking another owner's restored into a call, that call could have the model repeat it.
 */
export function encryptedReasoning(sealer: PurposeSealer, owner: string): EncryptedReasoning {
  return {
    seal(blocks) {
      const thinking = (blocks ?? []).flatMap((block) => thinkingBlock(block) ?? []);
      return thinking.length > 0 ? sealer.seal(JSON.stringify(thinking), owner) : undefined;
    },
    open(encrypted) {
      const text = typeof encrypted === 'string' ? sealer.open(encrypted, owner) : undefined;
      if (text === undefined) return undefined;
      const blocks = JSON.parse(text) as unknown;
      if (!Array.isArray(blocks) || blocks.length === 0) return undefined;
      const thinking = blocks.map(thinkingBlock);
      return thinking.every((block) => block !== undefined) ? (thinking as AnthropicBlock[]) : undefined;
    },
  };
}

/** Whether an `include` (of a create request, or of a retrieve's query) asks for `encrypted_content`. */
export const includesEncryptedReasoning = (include: unknown): boolean => Array.isArray(include) && include.includes(ENCRYPTED_REASONING_INCLUDE);

/** An item without its `encrypted_content` if it is a reasoning item: what a client that did not include it sees. */
function withoutEncrypted<T extends { type: string }>(item: T): T {
  if (item.type !== 'reasoning' || !('encrypted_content' in item)) return item;
  const { encrypted_content: _sealed, ...rest } = item as T & { encrypted_content: unknown };
  return rest as unknown as T;
}

/**
 * Items as a client sees them (a Response's output, or the input items a list shows, those the client sent
 * included): with reasoning items' `encrypted_content` when it asked for it (`included`), without otherwise.
 */
export const outputAsIncluded = <T extends { type: string }>(items: readonly T[], included: boolean): T[] => (included ? [...items] : items.map(withoutEncrypted));

/** A Response as a client sees it (outputAsIncluded): the same object when nothing is left out. */
export function responseAsIncluded(response: ResponseObject, included: boolean): ResponseObject {
  if (included || !response.output.some((item) => item.type === 'reasoning' && item.encrypted_content !== undefined)) return response;
  return { ...response, output: outputAsIncluded(response.output, false) };
}
