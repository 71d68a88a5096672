export { ModelCatalog, type CatalogFilter } from './catalog.js';
export { CATALOG_KEY_PATTERN, CatalogModelSchema, MODEL_CAPABILITIES, MODEL_KINDS, type CatalogModel, type ModelCapability, type ModelKind } from './catalog-model.js';
export { CACHE_WRITE_RATES, INPUT_RATES, costUsd, type CacheWriteRates, type CacheWrites, type ModelPrices, type TokenUsage } from './cost.js';
