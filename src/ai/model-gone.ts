import type { ProviderFailure } from './providers/index.js';

/**
 * A provider's words for a model it does not serve: OpenAI's "The model `x` does not exist…", "…has been deprecated",
 * Groq's "…has been decommissioned and is no longer supported", DeepSeek's "Model Not Exist", Mistral's "Invalid model".
 */
const MODEL_GONE_WORDS = /\bmodel\b[^.]{0,80}?\b(?:does not exist|doesn't exist|not exist|not found|deprecated|decommissioned|retired|no longer (?:available|supported))\b|\b(?:invalid|unknown) model\b/i;
/** What a 404 names when it is about something of the caller's other than the model. */
const OTHER_RESOURCE = /\b(?:file|files|object|upload|batch|vector store|assistant|thread|response|conversation)\b/i;
const MODEL_GONE_CODES = /^model_(?:not_found|decommissioned|deprecated|not_available)$/;

/**
 * Whether a provider's refusal says the model it was called with is not there, rather than that the request is
 * wrong: a 404 (OpenAI's and Groq's model_not_found, Anthropic's not_found_error, Gemini's NOT_FOUND, Bedrock's
 * ResourceNotFoundException; a wrong base URL's path too) or a 410, unless it names something of the caller's other
 * than the model (a file), or a 400 whose code, `param` or words are about the model. For an alias's target, the operator's choice, that is the target's failure (see attempt).
 */
export function saysModelIsGone(failure: ProviderFailure): boolean {
  // A 404 about a resource of the caller's own (OpenAI's "No such File object: file-…" for a file_id passed on) is
  // the caller's to mend, not the alias's: it goes to the caller as it came.
  if (failure.status === 404 || failure.status === 410) return !OTHER_RESOURCE.test(failure.message) || MODEL_GONE_WORDS.test(failure.message);
  if (failure.status !== 400) return false;
  return (failure.code !== null && MODEL_GONE_CODES.test(failure.code)) || failure.param === 'model' || MODEL_GONE_WORDS.test(failure.message);
}
