import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface TlsSource {
  /** The default certificate and key (PEM files), served when no SNI name matches. */
  certFile: string;
  keyFile: string;
  /** A folder of `<name>.crt` + `<name>.key` (or `.pem` pairs); each certificate serves the DNS names it lists. */
  certsDir?: string;
}

interface Loaded {
  fingerprint: string;
  defaultContext: SecureContext;
  byName: Map<string, SecureContext>;
  names: string[];
}

export class TlsError extends Error {
  override name = 'TlsError';
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** DNS names a certificate is valid for: its subjectAltName DNS entries, else its CN (RFC 6125 §6.4.4). */
function dnsNames(cert: Buffer): string[] {
  const x509 = new X509Certificate(cert);
  const san = x509.subjectAltName?.split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase()) ?? [];
  if (san.length > 0) return san;
  const cn = /CN=([^\n,]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function context(cert: Buffer, key: Buffer, where: string): SecureContext {
  try {
    return createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsError(`the certificate and key in ${where} do not form a usable pair: ${(error as Error).message}`);
  }
}

/**
 * Certificates for one listening port, chosen per connection by SNI (RFC 6066 §3) from the names in each
 * certificate, and reloaded when the files change, with no restart and no dropped connection.
 */
export class TlsCertificates {
  #loaded: Loaded;

  constructor(private readonly source: TlsSource) {
    this.#loaded = this.#load();
  }

  get defaultContext(): SecureContext {
    return this.#loaded.defaultContext;
  }

  get names(): readonly string[] {
    return this.#loaded.names;
  }

  /** For `tls.createServer({ SNICallback })`: exact name, then `*.parent` wildcard, then the default. */
  readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
    const name = servername.toLowerCase();
    const byName = this.#loaded.byName;
    const dot = name.indexOf('.');
    callback(null, byName.get(name) ?? (dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined) ?? this.#loaded.defaultContext);
  };

  /** The PEM pair files, for the server options. */
  serverOptions(): { cert: Buffer; key: Buffer; SNICallback: TlsCertificates['sniCallback'] } {
    return { cert: read(this.source.certFile, 'certificate'), key: read(this.source.keyFile, 'key'), SNICallback: this.sniCallback };
  }

  /**
   * Reloads if any file changed; returns true when new certificates are in use. A pair that does not load
   * (say, half-written) leaves the current certificates in place and throws.
   */
  reloadIfChanged(): boolean {
    if (this.#fingerprint() === this.#loaded.fingerprint) return false;
    this.#loaded = this.#load();
    return true;
  }

  #files(): Array<{ cert: string; key: string }> {
    const dir = this.source.certsDir;
    if (!dir) return [];
    const names = readdirSync(dir);
    const pairs: Array<{ cert: string; key: string }> = [];
    for (const name of names) {
      const match = /^(.+)\.(crt|cert\.pem)$/.exec(name);
      if (!match) continue;
      const base = match[1]!;
      const key = names.find((n) => n === `${base}.key` || n === `${base}.key.pem`);
      if (key) pairs.push({ cert: join(dir, name), key: join(dir, key) });
    }
    return pairs.sort((a, b) => a.cert.localeCompare(b.cert, 'en'));
  }

  #fingerprint(): string {
    const files = [this.source.certFile, this.source.keyFile, ...this.#files().flatMap((p) => [p.cert, p.key])];
    return files
      .map((f) => {
        try {
          const s = statSync(f);
          return `${f}:${s.mtimeMs}:${s.size}`;
        } catch {
          return `${f}:missing`;
        }
      })
      .join('|');
  }

  #load(): Loaded {
    const fingerprint = this.#fingerprint();
    const defaultContext = context(read(this.source.certFile, 'certificate'), read(this.source.keyFile, 'key'), this.source.certFile);
    const byName = new Map<string, SecureContext>();
    for (const pair of this.#files()) {
      const cert = read(pair.cert, 'certificate');
      const ctx = context(cert, read(pair.key, 'key'), pair.cert);
      for (const name of dnsNames(cert)) if (!byName.has(name)) byName.set(name, ctx);
    }
    return { fingerprint, defaultContext, byName, names: [...byName.keys()].sort() };
  }
}
