/**
 * An Amazon Bedrock API key (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-use.html): a long-term
 * `ABSK…` or a short-term `bedrock-api-key-…`, each base64 after its prefix, which Bedrock's runtime takes as
 * `Authorization: Bearer <key>` with no SigV4 signature. Told from `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`
 * by its form rather than its prefix, so that a kind of key Amazon adds later is told as well: a bearer token's
 * characters (RFC 6750 §2.1, b64token), which hold no ':', where a pair of AWS credentials always holds one.
 *
 * @example isBedrockApiKey('ABSKQmVkcm9ja0FQSUtleS1...') // true
 * @example isBedrockApiKey('AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY') // false
 */
export const isBedrockApiKey = (secret: string): boolean => B64TOKEN.test(secret);

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
