import { readFileSync } from 'node:fs';
import { AdminClient, CliError } from './admin-client.js';
import { parseCommandArgs, refuseExtraArguments } from './parse-command-args.js';

interface KeyInfo {
  kid: string;
  alg: string;
  use: string;
  kty: string;
  crv: string | null;
  state: string;
  origin: string;
  published: boolean;
  createdAt: string;
  activatedAt: string | null;
  retireAt: string | null;
}

export const KEYS_USAGE = `keygate keys — manage the key service of a running node

  keygate keys list [--state S] [--use sig|enc] [--alg A] [--json]
  keygate keys show <kid>
  keygate keys create --alg A [--crv C] [--modulus-length N] [--state next|active]
  keygate keys rotate --alg A
  keygate keys revoke <kid> [--reason TEXT]
  keygate keys import <file.json|file.pem> [--alg A] [--use sig|enc] [--state next|active] [--public]
  keygate keys export <kid> [--format jwk|pem]

Connection: --admin-url (KEYGATE_ADMIN_URL, default http://127.0.0.1:<KEYGATE_ADMIN_PORT, else 8081>); the token from
KEYGATE_ADMIN_TOKEN or <data-dir>/admin-token (--data-dir, KEYGATE_DATA_DIR, default ./data).`;

const OPTIONS = {
  'admin-url': { type: 'string' },
  'data-dir': { type: 'string' },
  state: { type: 'string' },
  use: { type: 'string' },
  alg: { type: 'string' },
  crv: { type: 'string' },
  'modulus-length': { type: 'string' },
  reason: { type: 'string' },
  format: { type: 'string' },
  public: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** The subcommands that take a kid or a file after their name; the others take nothing more. */
const TAKES_TARGET = new Set(['show', 'revoke', 'import', 'export']);

function table(keys: KeyInfo[]): string {
  const rows = [['KID', 'ALG', 'USE', 'STATE', 'PUBLISHED', 'CREATED', 'RETIRES']];
  for (const k of keys) {
    rows.push([k.kid, k.alg + (k.crv && k.kty !== 'EC' ? `/${k.crv}` : ''), k.use, k.state, k.published ? 'yes' : 'no', k.createdAt.slice(0, 19) + 'Z', k.retireAt ? k.retireAt.slice(0, 19) + 'Z' : '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function describe(k: KeyInfo): string {
  return `${k.kid}  ${k.alg} ${k.use} ${k.state}`;
}

/** `keygate keys …`: each subcommand is one admin API call; output is a table, or JSON with --json. */
export async function keysCommand(args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, KEYS_USAGE);
  const [sub, target] = positionals;
  refuseExtraArguments(positionals, sub !== undefined && TAKES_TARGET.has(sub) ? 2 : 1, KEYS_USAGE);
  const client = () => AdminClient.fromEnvironment(env, values);
  const need = (what: string, value: string | undefined): string => {
    if (!value) throw new CliError(`keygate keys ${sub} needs ${what}\n\n${KEYS_USAGE}`, 2);
    return value;
  };

  switch (sub) {
    case 'list': {
      const query = new URLSearchParams();
      for (const name of ['state', 'use', 'alg'] as const) if (values[name]) query.set(name, values[name]);
      const { keys } = await client().request<{ keys: KeyInfo[] }>('GET', `/keys${query.size ? `?${query}` : ''}`);
      out(values.json ? JSON.stringify(keys, null, 2) : table(keys));
      return;
    }
    case 'show': {
      out(JSON.stringify(await client().request('GET', `/keys/${encodeURIComponent(need('a kid', target))}`), null, 2));
      return;
    }
    case 'create': {
      const body: Record<string, unknown> = { alg: need('--alg', values.alg) };
      // Given empty, an option is still given: refused (here or by the node), not taken for the default.
      if (values.crv !== undefined) body.crv = values.crv;
      if (values['modulus-length'] !== undefined) {
        const bits = values['modulus-length'];
        if (!/^\d+$/.test(bits)) throw new CliError(`--modulus-length must be a number of bits (2048, 3072 or 4096), got "${bits}"`, 2);
        body.modulusLength = Number(bits);
      }
      if (values.state !== undefined) body.state = values.state;
      const key = await client().request<KeyInfo>('POST', '/keys', body);
      out(values.json ? JSON.stringify(key, null, 2) : `created ${describe(key)}`);
      return;
    }
    case 'rotate': {
      const result = await client().request<{ activated: KeyInfo; retiring: KeyInfo | null }>('POST', '/keys/rotate', { alg: need('--alg', values.alg) });
      out(values.json ? JSON.stringify(result, null, 2) : `activated ${describe(result.activated)}${result.retiring ? `\nretiring  ${describe(result.retiring)} until ${result.retiring.retireAt}` : ''}`);
      return;
    }
    case 'revoke': {
      const key = await client().request<KeyInfo>('POST', `/keys/${encodeURIComponent(need('a kid', target))}/revoke`, values.reason ? { reason: values.reason } : {});
      out(values.json ? JSON.stringify(key, null, 2) : `revoked ${describe(key)}`);
      return;
    }
    case 'import': {
      const file = need('a file', target);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const common: Record<string, unknown> = {};
      if (values.alg) common.alg = values.alg;
      if (values.use) common.use = values.use;
      if (values.state) common.state = values.state;
      if (values.public) common.publicOnly = true;
      const admin = client();
      if (text.trimStart().startsWith('-----BEGIN')) {
        out(`imported ${describe(await admin.request<KeyInfo>('POST', '/keys/import', { pem: text, ...common }))}`);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError(`${file} is neither a PEM nor JSON`);
      }
      const set = (json as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(set)) {
        out(`imported ${describe(await admin.request<KeyInfo>('POST', '/keys/import', { jwk: json, ...common }))}`);
        return;
      }
      // A JWK Set goes in one request, which imports every key or, one refused, none.
      out(`importing ${set.length} key${set.length === 1 ? '' : 's'} of ${file}`);
      const { keys } = await admin.request<{ keys: KeyInfo[] }>('POST', '/keys/import-set', { jwks: { keys: set }, ...common });
      for (const key of keys) out(`imported ${describe(key)}`);
      return;
    }
    case 'export': {
      const format = values.format ?? 'jwk';
      if (format !== 'jwk' && format !== 'pem') throw new CliError('--format must be jwk or pem', 2);
      const exported = await client().request<unknown>('GET', `/keys/${encodeURIComponent(need('a kid', target))}/public?format=${format}`);
      out(typeof exported === 'string' ? exported.trimEnd() : JSON.stringify(exported, null, 2));
      return;
    }
    case undefined:
    case 'help':
      out(KEYS_USAGE);
      return;
    default:
      throw new CliError(`unknown command "keygate keys ${sub}"\n\n${KEYS_USAGE}`, 2);
  }
}
