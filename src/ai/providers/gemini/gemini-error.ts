import type { IncomingHttpHeaders } from 'node:http';
import { MAX_RETRY_AFTER_MS, failureFor, retryAfterMs, type ProviderFailure } from '../provider.js';
import type { GeminiErrorBody } from './wire-types.js';

type GoogleError = GeminiErrorBody['error'];

/**
 * The detail of `type` an error carries. An error body is the provider's text: `details` that is no array of objects
 * (a proxy's, a broken one's) carries none, rather than failing the reading of the error.
 */
function detailOf(error: GoogleError, type: string): Record<string, unknown> | undefined {
  if (!Array.isArray(error.details)) return undefined;
  return error.details.find((d) => d !== null && typeof d === 'object' && String(d['@type']).endsWith(type));
}

/** google.rpc.RetryInfo's `retryDelay` ("37s", "0.5s"), which Gemini sends on a 429 instead of Retry-After. */
function retryDelayMs(error: GoogleError): number | undefined {
  const info = detailOf(error, 'google.rpc.RetryInfo');
  const match = typeof info?.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(info.retryDelay) : null;
  return match ? Math.min(Math.ceil(Number(match[1]) * 1000), MAX_RETRY_AFTER_MS) : undefined;
}

function reasonOf(error: GoogleError): string | undefined {
  const info = detailOf(error, 'google.rpc.ErrorInfo');
  return typeof info?.reason === 'string' ? info.reason : undefined;
}

/**
 * ErrorInfo reasons about the key or its project, not the call (https://cloud.google.com/apis/design/errors#error_info,
 * the reasons Google's APIs give): API_KEY_INVALID, API_KEY_SERVICE_BLOCKED and the other API_KEY_ ones,
 * SERVICE_DISABLED (the Gemini API off for the key's project), CONSUMER_INVALID and CONSUMER_SUSPENDED (the project
 * unknown or suspended), BILLING_DISABLED.
 */
const KEY_REASONS = /^(?:API_KEY_\w+|SERVICE_DISABLED|CONSUMER_INVALID|CONSUMER_SUSPENDED|BILLING_DISABLED)$/;

/**
 * Gemini's words for a Prepay balance spent ("Your prepayment credits are depleted. Please go to AI Studio … to manage
 * your project and billing", https://ai.google.dev/gemini-api/docs/billing#prepay): every key of the billing account
 * stops until it is topped up. Google answers them with a 402 since it told so
 * (https://discuss.ai.google.dev/t/api-update-depleted-prepay-credits-now-return-http-402-instead-of-429/183654),
 * with a 429 before. Read narrowly: nothing else Gemini says of a quota tells a spent balance from a limit that resets.
 */
const SPENT_CREDIT = /\bprepayment credits are depleted\b/i;

/**
 * A Gemini error (https://ai.google.dev/gemini-api/docs/troubleshooting) in OpenAI's terms, with Google's status
 * in lower case as the code:
 *
 * - a key Gemini does not know answers 400 INVALID_ARGUMENT with reason API_KEY_INVALID; it, UNAUTHENTICATED and
 *   a PERMISSION_DENIED about the key (none given, one blocked for the API or reported as leaked) are an invalid
 *   credential (reported as 401 / 403); any other PERMISSION_DENIED refuses this call to the key (a 403 that sets
 *   no key aside, failureFor)
 * - FAILED_PRECONDITION about billing, the free tier or the project's location is the key's project unfit for the
 *   API ("Gemini API free tier is not available in your country. Please enable billing on your project"): the key
 *   is set aside as a refused one, and a key of another project, or another target, serves the same request; any
 *   other FAILED_PRECONDITION (a file not yet ACTIVE) is about the request, the caller's 400
 * - a 402, and a RESOURCE_EXHAUSTED that says the prepayment credits are depleted (which Gemini answered with a 429
 *   before it moved the same words to 402), is the key's billing account out of credit, `insufficient_quota` as OpenAI
 *   names it: the key is set aside as out of quota until someone pays, and another key or target serves the request
 *   (SPENT_CREDIT)
 * - any other RESOURCE_EXHAUSTED is a rate limit, retried after RetryInfo's delay. Gemini words every limit as a
 *   "quota" ("You exceeded your current quota, please check your plan and billing details"), per minute ones
 *   included, so those words do not set the key aside.
 */
/** What a FAILED_PRECONDITION says of the key's project rather than of the request. */
const PROJECT_UNFIT = /\b(?:billing|free tier|country|region|location)\b/i;

export function googleFailure(status: number, error: GoogleError, headers: IncomingHttpHeaders): ProviderFailure {
  const message = typeof error.message === 'string' ? error.message : `Gemini answered ${status}`;
  const reason = reasonOf(error);
  // A status that is no text (a proxy's body) names nothing.
  const googleStatus = typeof error.status === 'string' ? error.status : undefined;
  const code = (reason === 'API_KEY_INVALID' ? reason : (googleStatus ?? null))?.toLowerCase() ?? null;
  const aboutTheKey = reason !== undefined ? KEY_REASONS.test(reason) : /\bAPI key\b/i.test(message);
  if (reason === 'API_KEY_INVALID' || googleStatus === 'UNAUTHENTICATED' || (googleStatus === 'PERMISSION_DENIED' && aboutTheKey)) {
    return { ...failureFor(401, message, headers, code), status: status === 403 || googleStatus === 'PERMISSION_DENIED' ? 403 : 401 };
  }
  if (googleStatus === 'PERMISSION_DENIED') return failureFor(403, message, headers, code);
  // Only the project's own unfitness (billing, the free tier, its location) is the key's: a FAILED_PRECONDITION about
  // the request ("The File … is not in an ACTIVE state") is the caller's 400, and must not set every key aside.
  if (googleStatus === 'FAILED_PRECONDITION' && PROJECT_UNFIT.test(message)) return { ...failureFor(401, message, headers, code), status };
  // Out of credit, not rate limited: no Retry-After of Google's RetryInfo, whose delay is a limit's window, not when the credit comes back.
  if (status === 402 || ((status === 429 || googleStatus === 'RESOURCE_EXHAUSTED') && SPENT_CREDIT.test(message))) {
    return { status, type: 'insufficient_quota', code: 'insufficient_quota', message, retryAfterMs: retryAfterMs(headers), credentialProblem: 'quota', retryable: true };
  }
  if (status === 429 || googleStatus === 'RESOURCE_EXHAUSTED') {
    return { status: 429, type: 'rate_limit_error', code: code ?? 'rate_limit_exceeded', message, retryAfterMs: retryAfterMs(headers) ?? retryDelayMs(error), retryable: true };
  }
  const failure = failureFor(status, message, headers, code);
  // A signature another model, project or key made ("Corrupted thought signature."): not one missing, which the stand-in answers.
  if (status === 400 && /thought[ _]signature/i.test(message) && !/missing/i.test(message)) failure.signatureRefused = true;
  // A model without log probabilities ("Logprobs is not enabled for models/…"): the request is sound, and the next
  // target of an alias may answer it (as the adapters that translate none refuse it, no-logprobs.ts).
  if (status === 400 && /\blogprobs\b/i.test(message)) return { ...failure, code: 'unsupported_parameter', param: 'logprobs', retryable: true };
  // A model without penalties ("Penalty is not enabled for models/gemini-2.5-flash", the 2.5 models among them): the same,
  // though the message names neither presence_penalty nor frequency_penalty.
  if (status === 400 && /\bpenalty is not enabled\b/i.test(message)) return { ...failure, code: 'unsupported_parameter', retryable: true };
  return failure;
}

/** Parses an error response's body; a non-JSON body (a proxy's HTML page) keeps a generic message. */
export function geminiFailure(status: number, text: string, headers: IncomingHttpHeaders): ProviderFailure {
  let error: GoogleError = {};
  try {
    const parsed = JSON.parse(text) as Partial<GeminiErrorBody> | Array<Partial<GeminiErrorBody>>;
    error = (Array.isArray(parsed) ? parsed[0]?.error : parsed.error) ?? {};
  } catch {
    // keep the generic message rather than echo the page
  }
  return googleFailure(status, error, headers);
}
