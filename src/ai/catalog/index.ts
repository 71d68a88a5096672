export { ModelCatalog, type CatalogFilter } from './catalog.js';
export { CatalogModelSchema, MODEL_CAPABILITIES, MODEL_KINDS, type CatalogModel, type ModelCapability, type ModelKind } from './catalog-model.js';
export { costUsd, type TokenUsage } from './cost.js';
