import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Lua prelude that writes and publishes a status record
 * (`lua/record.lua`). Queue scripts are prefixed with it, so the record format
 * is defined once, next to the decoder in `status-record.ts`.
 * Read from the package's `lua/` folder, which src/ (tests) and dist/ (build)
 * both sit beside: the build and the tests run the same text.
 */
export const RECORD_LUA: string = readFileSync(join(__dirname, '..', 'lua', 'record.lua'), 'utf8');
