import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A refusal the admin API answered: its stable code and message, printed as `code: message`, exit code 1. */
export class AdminApiError extends CliError {
  override name = 'AdminApiError';
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** Talks to a running node's admin API, as `keygate keys …` does. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /**
   * The admin URL from --admin-url, KEYGATE_ADMIN_URL or the default; the token from KEYGATE_ADMIN_TOKEN or the
   * admin-token file in the data directory.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv, flags: { 'admin-url'?: string; 'data-dir'?: string }): AdminClient {
    const baseUrl = (flags['admin-url'] ?? env.KEYGATE_ADMIN_URL ?? `http://127.0.0.1:${env.KEYGATE_ADMIN_PORT ?? 8081}`).replace(/\/$/, '');
    let token = env.KEYGATE_ADMIN_TOKEN;
    if (!token) {
      const file = join(resolve(flags['data-dir'] ?? env.KEYGATE_DATA_DIR ?? './data'), 'admin-token');
      try {
        token = readFileSync(file, 'utf8').trim();
      } catch {
        throw new CliError(`no admin token: set KEYGATE_ADMIN_TOKEN, or run where ${file} exists (or pass --data-dir)`);
      }
    }
    return new AdminClient(baseUrl, token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach the admin API at ${this.baseUrl} (${(error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); is "keygate start" running?`);
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed: { error?: { code?: string; message?: string } } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: show the text as it is
      }
      if (parsed?.error) throw new AdminApiError(String(parsed.error.code), String(parsed.error.message));
      throw new CliError(text);
    }
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }
}
