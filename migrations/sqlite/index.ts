import type { MigrationInterface } from 'typeorm';
import { Initial1795379362291 } from './1795379362291-initial.js';

/** Applied in this order; `npm run migration:generate` appends here. */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [Initial1795379362291];
