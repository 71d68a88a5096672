import { readClaim } from './issuers/claim-path.js';

/** Who is calling, as proven by the route's authenticator. */
export interface Principal {
  /** The Keygate app, for API keys and gateway tokens (and outside tokens whose client is a registered app). */
  app: string | undefined;
  team: string | undefined;
  subject: string;
  scopes: ReadonlySet<string>;
  /** The verified claims (empty for API keys). */
  claims: Readonly<Record<string, unknown>>;
  /** Which authenticator accepted the call. */
  via: string;
  /** The id of the API key the call was made with (its usage is reported per key). */
  credential?: string;
}

/** A refused call: the status, a stable code, and the WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7.1). */
export class AuthFailure extends Error {
  override name = 'AuthFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Reads a claim by dotted path (`realm_access.roles`, or a namespaced name that holds dots); see readClaim. */
export const claimAt: (claims: Readonly<Record<string, unknown>>, path: string) => unknown = readClaim;
