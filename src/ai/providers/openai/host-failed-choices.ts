import type { IncomingHttpHeaders } from 'node:http';
import { isProviderOf } from '../api-host.js';
import type { CallContext, ProviderFailure } from '../provider.js';
import { streamedFailure } from './stream-error.js';

type ParseError = (status: number, text: string, headers: IncomingHttpHeaders) => ProviderFailure;

type Choice = { finish_reason?: string | null; error?: unknown } | null | undefined;
/** A whole answer or a streamed chunk, as far as a host's failed choice is read from it. */
interface Answer {
  error?: unknown;
  choices?: ReadonlyArray<Choice>;
}

type Provider = CallContext['provider'];
const OPENROUTER_HOSTS: ReadonlySet<string> = new Set(['openrouter.ai']);
const NO_HOSTS: ReadonlySet<string> = new Set();

/** Whether the call goes to OpenRouter: `catalog: openrouter`, or a base URL that reaches openrouter.ai. */
const isOpenRouter = (provider: Provider): boolean => isProviderOf(provider, ['openrouter'], OPENROUTER_HOSTS);

/** Whether the call goes to a vLLM server: one has no fixed host, so only `catalog: vllm` says so. */
const isVllm = (provider: Provider): boolean => isProviderOf(provider, ['vllm'], NO_HOSTS);

/**
 * OpenRouter ends a choice whose provider failed once the model had begun with `finish_reason: "error"`, the error
 * (`{code, message}`, its code an HTTP status) beside it: "the returned HTTP response status will be 200 and any error
 * occurred while the LLM is producing the output will be emitted in the response body or as an SSE data event"
 * (https://openrouter.ai/docs/api-reference/errors). Read as its error bodies are, from the answer's `error` or the
 * choice's own; with neither, OpenRouter's 502 ("your chosen model is down or we received an invalid response from it").
 */
function openRouterFailure(answer: Answer, choice: NonNullable<Choice>, parseError: ParseError): ProviderFailure | undefined {
  const told = [answer.error, choice.error].find((error) => (typeof error === 'object' && error !== null) || (typeof error === 'string' && error !== ''));
  return streamedFailure({ error: told ?? { code: 502, message: 'OpenRouter ended the choice with finish_reason error, and said no more' } }, parseError);
}

/**
 * vLLM ends a request its engine aborted (a shutdown, a scale-down, a pause, an abort asked of it) with finish_reason
 * `abort`, "aborted for another reason" than a stop or the length (RequestFinishedReason in vllm/v1/engine/__init__.py),
 * and its OpenAI-compatible server passes it on in a 200 as if the answer were whole (vllm-project/vllm#57082). The
 * server stopped the answer, not the model: a server's failure, as Groq's `x_groq.error` is, so that another target answers.
 */
function vllmAbortFailure(parseError: ParseError): ProviderFailure {
  return parseError(500, JSON.stringify({ error: { message: "vLLM's engine aborted the request before the model finished (finish_reason abort)", type: 'server_error' } }), {});
}

/**
 * The failure of a choice the call's host failed with a 200 in a way of its own (OpenRouter's `error`, vLLM's
 * `abort`); undefined for an answer or chunk that did not fail so, and for every other host. The choices are read
 * before the provider, so that an answer that finished as usual costs no look at the base URL.
 */
export function hostFailedChoice(answer: Answer, ctx: CallContext, parseError: ParseError): ProviderFailure | undefined {
  if (!Array.isArray(answer.choices)) return undefined;
  for (const choice of answer.choices) {
    if (choice?.finish_reason === 'error' && isOpenRouter(ctx.provider)) return openRouterFailure(answer, choice, parseError);
    if (choice?.finish_reason === 'abort' && isVllm(ctx.provider)) return vllmAbortFailure(parseError);
  }
  return undefined;
}
