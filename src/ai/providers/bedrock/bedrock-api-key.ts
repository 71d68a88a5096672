/**
 * An Amazon Bedrock API key (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-use.html): a long-term
 * `ABSK…` or a short-term `bedrock-api-key-…`, each base64 after its prefix, which Bedrock's runtime takes as
 * `Authorization: Bearer <key>` with no SigV4 signature. Told by Amazon's prefixes: any other secret is taken for
 * `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`, so that half of a pair pasted alone (an access key id, a
 * secret) is refused before any call, rather than sent as a Bearer token and refused by Bedrock on every call.
 *
 * @example isBedrockApiKey('ABSKQmVkcm9ja0FQSUtleS1...') // true
 * @example isBedrockApiKey('AKIAIOSFODNN7EXAMPLE') // false: an access key id without its secret
 */
export const isBedrockApiKey = (secret: string): boolean => API_KEY.test(secret);

const API_KEY = /^(?:ABSK|bedrock-api-key-)[A-Za-z0-9\-._~+/]+=*$/;
