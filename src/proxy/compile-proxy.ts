import { RouteEncryption } from '../auth/jwe/route-encryption.js';
import { RoutePolicy } from '../auth/route-policy.js';
import type { ProxyConfig } from './proxy-config-store.js';
import type { CompiledRoute, ProxySnapshot } from './proxy-handler.js';
import { Router } from './router.js';
import type { ServiceRegistry } from './service-registry.js';
import { parseSize } from './size.js';

export const DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024;

/** Compiles validated services and routes into the data plane's router and upstream services. */
export function compileProxySnapshot(config: ProxyConfig, registry: ServiceRegistry): ProxySnapshot {
  const services = registry.resolve(config.services);
  const entries = config.routes.map((spec) => {
    const route: CompiledRoute = {
      name: spec.name,
      service: spec.service === undefined ? undefined : services.get(spec.service),
      ai: spec.ai,
      methods: spec.methods,
      preserveHost: spec.preserveHost ?? false,
      stripPrefix: spec.stripPrefix ?? false,
      rewrite: spec.rewrite,
      maxBodySize: spec.maxBodySize ? (parseSize(spec.maxBodySize) ?? DEFAULT_MAX_BODY_SIZE) : DEFAULT_MAX_BODY_SIZE,
      policy: spec.auth || spec.limits?.length ? new RoutePolicy(spec.name, spec.service, spec.auth, spec.limits ?? []) : undefined,
      encryption: spec.encryption ? new RouteEncryption(spec.encryption) : undefined,
    };
    return { route, hosts: spec.hosts, paths: spec.paths, methods: spec.methods, headers: spec.headers };
  });
  return { router: new Router(entries), services };
}
