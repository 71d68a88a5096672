// Writes docs/keygate.schema.json from the schema the gateway validates with (run after `npm run build`).
import console from 'node:console';
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';
import { ConfigFileSchema } from '../dist/config/config-file.js';

writeFileSync(new URL('../docs/keygate.schema.json', import.meta.url), `${JSON.stringify(ConfigFileSchema, null, 2)}\n`);
console.log('wrote docs/keygate.schema.json');
