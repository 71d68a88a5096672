import { ProviderCallError } from '../../provider-call.js';
import type { AwsCredentials } from './sigv4.js';

/**
 * A Bedrock key from the pool that is no API key (isBedrockApiKey) is `ACCESS_KEY_ID:SECRET_ACCESS_KEY`, or
 * `ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN` for temporary credentials (neither an access key id nor a secret key
 * contains ':'; a session token is base64).
 */
export function awsCredentialsOf(secret: string): AwsCredentials {
  const [accessKeyId, secretAccessKey, ...token] = secret.split(':');
  if (!accessKeyId || !secretAccessKey) {
    throw new ProviderCallError({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_credential_format',
      message: 'a Bedrock credential must be an Amazon Bedrock API key, or read ACCESS_KEY_ID:SECRET_ACCESS_KEY or ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN',
      credentialProblem: 'invalid',
      retryable: true,
    });
  }
  const sessionToken = token.join(':');
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}
