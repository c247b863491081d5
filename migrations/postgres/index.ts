import type { MigrationInterface } from 'typeorm';
import { Initial1795379392214 } from './1795379392214-initial.js';

/** Applied in this order; `npm run migration:generate` appends here. */
export const POSTGRES_MIGRATIONS: (new () => MigrationInterface)[] = [Initial1795379392214];
