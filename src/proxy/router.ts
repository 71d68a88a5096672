import { normalizePath } from './request-path.js';

/**
 * The route table, compiled once per snapshot into per-host segment tries, so matching a request costs a Map
 * look-up per path segment rather than a scan of every route.
 *
 * Paths: `/exact`, `/users/:id` (a parameter segment), `/static/*` (a prefix: the rest of the path, possibly
 * empty). Precedence: a static segment beats a parameter, which beats a prefix; among routes ending at the same
 * place, the first declared wins. Hosts: exact names first, then `*.example.com` (longest suffix first), then
 * routes without hosts.
 */
export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
  /** What `*` matched, without a leading slash; undefined for paths without `*`. */
  wildcard: string | undefined;
}

export interface RouteEntry<R> {
  route: R;
  hosts?: readonly string[];
  paths: readonly string[];
  methods?: readonly string[];
  headers?: Readonly<Record<string, string>>;
}

interface Candidate<R> {
  route: R;
  params: readonly string[];
  methods: ReadonlySet<string> | undefined;
  headers: ReadonlyArray<[string, string]>;
}

class TrieNode<R> {
  readonly statics = new Map<string, TrieNode<R>>();
  param: TrieNode<R> | undefined;
  /** Routes whose path ends exactly here. */
  readonly ends: Candidate<R>[] = [];
  /** Routes whose path is this node followed by `*`. */
  readonly prefixes: Candidate<R>[] = [];
}

export class PathPatternError extends Error {
  override name = 'PathPatternError';
}

function insert<R>(root: TrieNode<R>, pattern: string, entry: RouteEntry<R>): void {
  // Requests are routed by their normalized path (request-path.ts): so is each pattern, or `/files/%7Euser/*`
  // would never match the `/files/~user/…` a request becomes.
  const path = normalizePath(pattern);
  if (path === undefined) throw new PathPatternError(`${pattern} is not a path a request can have (a bad escape, a dot segment behind an encoded slash, a "#")`);
  const segments = path.split('/').slice(1);
  let node = root;
  const params: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '*') {
      if (i !== segments.length - 1) throw new PathPatternError(`"*" must be the last segment of ${path}`);
      node.prefixes.push(candidate(entry, params));
      return;
    }
    if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PathPatternError(`bad parameter name "${segment}" in ${path}`);
      params.push(name);
      node.param ??= new TrieNode<R>();
      node = node.param;
    } else {
      let next = node.statics.get(segment);
      if (!next) node.statics.set(segment, (next = new TrieNode<R>()));
      node = next;
    }
  }
  node.ends.push(candidate(entry, params));
}

function candidate<R>(entry: RouteEntry<R>, params: string[]): Candidate<R> {
  return {
    route: entry.route,
    params: [...params],
    methods: entry.methods ? new Set(entry.methods) : undefined,
    headers: Object.entries(entry.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  };
}

type HeaderBag = Record<string, string | string[] | undefined>;

function accepts<R>(c: Candidate<R>, method: string, headers: HeaderBag): boolean {
  if (c.methods && !c.methods.has(method)) return false;
  for (const [name, value] of c.headers) if (headers[name] !== value) return false;
  return true;
}

function pick<R>(list: readonly Candidate<R>[], method: string, headers: HeaderBag): Candidate<R> | undefined {
  for (const c of list) if (accepts(c, method, headers)) return c;
  return undefined;
}

function walk<R>(node: TrieNode<R>, segments: readonly string[], i: number, values: string[], method: string, headers: HeaderBag): { c: Candidate<R>; values: string[]; wildcard?: string } | undefined {
  if (i === segments.length) {
    const c = pick(node.ends, method, headers);
    if (c) return { c, values };
  } else {
    const child = node.statics.get(segments[i]!);
    if (child) {
      const found = walk(child, segments, i + 1, values, method, headers);
      if (found) return found;
    }
    if (node.param && segments[i] !== '') {
      values.push(segments[i]!);
      const found = walk(node.param, segments, i + 1, values, method, headers);
      if (found) return found;
      values.pop();
    }
  }
  if (node.prefixes.length > 0) {
    const c = pick(node.prefixes, method, headers);
    if (c) return { c, values: [...values], wildcard: segments.slice(i).join('/') };
  }
  return undefined;
}

export class Router<R> {
  readonly #exactHosts = new Map<string, TrieNode<R>>();
  readonly #wildcardHosts: Array<[suffix: string, root: TrieNode<R>]> = [];
  readonly #anyHost = new TrieNode<R>();

  constructor(entries: readonly RouteEntry<R>[]) {
    const wildcard = new Map<string, TrieNode<R>>();
    for (const entry of entries) {
      const roots: TrieNode<R>[] = [];
      if (!entry.hosts || entry.hosts.length === 0) roots.push(this.#anyHost);
      for (const host of entry.hosts ?? []) {
        const name = host.toLowerCase();
        const map = name.startsWith('*.') ? wildcard : this.#exactHosts;
        const key = name.startsWith('*.') ? name.slice(1) : name;
        let root = map.get(key);
        if (!root) map.set(key, (root = new TrieNode<R>()));
        roots.push(root);
      }
      for (const root of roots) for (const path of entry.paths) insert(root, path, entry);
    }
    this.#wildcardHosts.push(...[...wildcard.entries()].sort((a, b) => b[0].length - a[0].length));
  }

  match(method: string, host: string | undefined, path: string, headers: HeaderBag): RouteMatch<R> | undefined {
    const segments = path.split('/');
    segments.shift();
    if (host && (this.#exactHosts.size > 0 || this.#wildcardHosts.length > 0)) {
      const name = host.toLowerCase();
      const bare = name.replace(/:\d+$/, '');
      const root = this.#exactHosts.get(name) ?? this.#exactHosts.get(bare);
      const found = (root && this.#find(root, segments, method, headers)) || this.#matchWildcard(bare, segments, method, headers);
      if (found) return found;
    }
    return this.#find(this.#anyHost, segments, method, headers);
  }

  #matchWildcard(host: string, segments: string[], method: string, headers: HeaderBag): RouteMatch<R> | undefined {
    for (const [suffix, root] of this.#wildcardHosts) {
      if (host.endsWith(suffix) && host.length > suffix.length) {
        const found = this.#find(root, segments, method, headers);
        if (found) return found;
      }
    }
    return undefined;
  }

  #find(root: TrieNode<R>, segments: string[], method: string, headers: HeaderBag): RouteMatch<R> | undefined {
    const found = walk(root, segments, 0, [], method, headers);
    if (!found) return undefined;
    const params: Record<string, string> = {};
    found.c.params.forEach((name, i) => (params[name] = found.values[i]!));
    return { route: found.c.route, params, wildcard: found.wildcard };
  }
}
