/**
 * Names of the operator's accounts that providers put in their error messages: OpenAI's organization (`org-…`)
 * and project (`proj_…`) ids ("Rate limit reached for gpt-4o in organization org-… on tokens per min"), Google
 * Cloud project numbers and ids (`project_number:…`, `projects/…`), AWS ARNs (which carry the account id) and
 * Azure subscription ids. No credentials, but not an app's to see: they tell its developer which accounts the
 * gateway's operator runs. Each keeps its prefix, so that the message still says what kind of thing it named.
 */
const OPERATOR_IDS = new RegExp(
  [
    // OpenAI: 24 letters and digits; a digit among them tells an id from a word ("org-administrators").
    String.raw`\b(org-|proj_)(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{12,}`,
    // Google: a project's number or id as a resource name, not a path segment of a URL (".../docs/projects/quotas").
    String.raw`\b(project_number:)\d+`,
    String.raw`(?<![/\w])(projects\/)[a-z0-9][a-z0-9-]{3,}`,
    String.raw`\b(project[= ])\d{6,}`,
    // AWS: an ARN with an account id (a foundation model's has none, and keeps its model's name).
    String.raw`\b(arn:)aws[a-z-]*:[^:\s]*:[^:\s]*:\d{12}:[^\s"'\`,;)]+`,
    String.raw`\b(subscriptions\/)[0-9a-fA-F-]{36}`,
  ].join('|'),
  'g',
);

/** `message` with the operator's account names (see OPERATOR_IDS) cut. */
export function withoutOperatorIds(message: string): string {
  return message.replace(OPERATOR_IDS, (_whole, ...prefixes: unknown[]) => `${prefixes.find((p) => typeof p === 'string') as string}[redacted]`);
}
