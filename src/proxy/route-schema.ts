import { Type, type Static } from 'typebox';
import { Name, Size } from './service-schema.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const RouteSchema = Type.Object(
  {
    name: Name,
    service: Name,
    hosts: Type.Optional(Type.Array(Type.String({ pattern: '^(\\*\\.)?[a-z0-9.-]+(:\\d+)?$' }), { description: 'exact host names, or *.example.com' })),
    paths: Type.Array(Type.String({ pattern: '^/' }), {
      minItems: 1,
      description: '/exact, /users/:id (a parameter segment), /static/* (a prefix)',
    }),
    methods: Type.Optional(Type.Array(Type.Union(METHODS.map((m) => Type.Literal(m))), { minItems: 1 })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), Type.String(), { description: 'request headers that must equal these values' })),
    stripPrefix: Type.Optional(Type.Boolean({ description: 'remove the matched prefix (the part before *) before forwarding' })),
    rewrite: Type.Optional(Type.String({ pattern: '^/', description: 'a path template using :params and * from the match' })),
    preserveHost: Type.Optional(Type.Boolean({ description: 'forward the client Host header instead of the target host' })),
    maxBodySize: Type.Optional(Size),
  },
  { additionalProperties: false, $id: 'Route' },
);

export type RouteSpec = Static<typeof RouteSchema>;
