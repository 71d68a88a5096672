export { openStore, redactDatabaseUrl, type Store, type StoreTx, type ChangeRecord, type Dialect } from './store.js';
export type { Database, JwkKeysTable, AiUsageTable } from './tables.js';
export { isRefusedRow } from './refused-row.js';
