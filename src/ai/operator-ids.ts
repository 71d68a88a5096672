/**
 * Names of the operator's accounts that providers put in their error messages: OpenAI's organization (`org-…`)
 * and project (`proj_…`) ids ("Rate limit reached for gpt-4o in organization org-… on tokens per min"), Google
 * Cloud project numbers and ids (`project_number:…`, `projects/…`), AWS ARNs (which carry the account id) and
 * Azure subscription ids. No credentials, but not an app's to see: they tell its developer which accounts the
 * gateway's operator runs. Each keeps its prefix, so that the message still says what kind of thing it named.
 */
const OPERATOR_IDS = new RegExp(
  [
    // OpenAI: exactly 24 letters and digits, which no word is ("org-administrators").
    String.raw`\b(org-|proj_)[A-Za-z0-9]{24}\b`,
    // Google: a project's number or id, as a resource name (Vertex AI's URLs and paths too), but not the documentation's
    // path (".../docs/projects/quotas"); as a console link's parameter; a number in prose ("in project 123…").
    String.raw`\b(project_number:)\d+`,
    String.raw`(?<!\/docs\/)\b(projects\/)[a-z0-9][a-z0-9-]{3,}`,
    String.raw`\b(project=)(?:[a-z][a-z0-9-]{4,}[a-z0-9]|\d{6,})`,
    String.raw`\b(project )\d{6,}`,
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
