/**
 * Names of the operator's accounts that providers put in their error messages: OpenAI's organization (`org-…`)
 * and project (`proj_…`) ids ("Rate limit reached for gpt-4o in organization org-… on tokens per min"), Google
 * Cloud project numbers and ids (`project_number:…`, `projects/…`), AWS ARNs (which carry the account id) and
 * Azure subscription ids. No credentials, but not an app's to see: they tell its developer which accounts the
 * gateway's operator runs. Each keeps its prefix, so that the message still says what kind of thing it named.
 */
const OPERATOR_IDS = /\b(org-|proj_)[A-Za-z0-9]{12,}|\b(project_number:)\d+|\b(projects\/)[a-z0-9][a-z0-9-]{3,}|\b(arn:)aws[a-z-]*:[^\s"'`,;)]+|\b(subscriptions\/)[0-9a-fA-F-]{36}/g;

/** `message` with the operator's account names (see OPERATOR_IDS) cut. */
export function withoutOperatorIds(message: string): string {
  return message.replace(OPERATOR_IDS, (_whole, ...prefixes: unknown[]) => `${prefixes.find((p) => typeof p === 'string') as string}[redacted]`);
}
