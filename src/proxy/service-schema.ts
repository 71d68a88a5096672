import { Type, type Static } from 'typebox';

/** A duration in the settings syntax (`250ms`, `2s`, `1m`, `1h`, `1d`). */
export const Duration = Type.String({ pattern: '^\\d+(ms|s|m|h|d)$', description: 'a duration such as 250ms, 2s, 1m' });
/** A duration that must not be 0: a health-check interval or timeout of 0 would probe without pause or wait forever. */
const PositiveDuration = Type.String({ pattern: '^0*[1-9]\\d*(ms|s|m|h|d)$', description: 'a duration above 0 such as 250ms, 2s, 1m' });
/** A size such as `512kb`, `10mb`, or a byte count. */
export const Size = Type.String({ pattern: '^\\d+(b|kb|mb|gb)?$', description: 'a size such as 16kb or 10mb' });
export const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case letters, digits, ".", "_" and "-"' });

export const TargetSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^/?#]+/?$', description: 'origin of one upstream server: http(s)://host:port' }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 1, description: '0 drains the target' })),
  },
  { additionalProperties: false },
);

export const ActiveHealthCheckSchema = Type.Object(
  {
    path: Type.String({ pattern: '^/', default: '/health' }),
    interval: Type.Optional(PositiveDuration),
    timeout: Type.Optional(PositiveDuration),
    healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const PassiveHealthCheckSchema = Type.Object(
  {
    failures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'consecutive failures that open the circuit' })),
    cooldown: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const RetrySchema = Type.Object(
  {
    attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'extra attempts after the first' })),
    onStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 400, maximum: 599 }))),
    budget: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'retries allowed as a share of requests' })),
  },
  { additionalProperties: false },
);

export const ServiceSchema = Type.Object(
  {
    name: Name,
    targets: Type.Array(TargetSchema, { minItems: 1, maxItems: 1000 }),
    balancing: Type.Optional(Type.Union([Type.Literal('round-robin'), Type.Literal('least-connections')])),
    healthCheck: Type.Optional(
      Type.Object({ active: Type.Optional(ActiveHealthCheckSchema), passive: Type.Optional(PassiveHealthCheckSchema) }, { additionalProperties: false }),
    ),
    retries: Type.Optional(RetrySchema),
    team: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'the team that owns the service and approves its subscriptions' })),
    subscription: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('approval')], { description: 'open: a subscription is approved when requested; approval: the team decides' })),
    timeouts: Type.Optional(Type.Object({ connect: Type.Optional(Duration), idle: Type.Optional(Duration), total: Type.Optional(Duration), send: Type.Optional(Duration) }, { additionalProperties: false })),
  },
  { additionalProperties: false, $id: 'Service' },
);

export type ServiceSpec = Static<typeof ServiceSchema>;
