export { AppSchema, TeamSchema, SUBSCRIPTION_STATES, type AppSpec, type TeamSpec, type CredentialInfo, type SubscriptionInfo, type SubscriptionState } from './catalog-schema.js';
export { CatalogService, type ServiceAdmission } from './catalog-service.js';
export { compileCatalogSnapshot, subscriptionKey, type AppEntry, type CatalogSnapshot, type CredentialEntry } from './catalog-snapshot.js';
export { hashSecret } from './credential-secret.js';
