import { AddSessionNamespaceLimits1795383759432 } from './1795383759432-add-session-namespace-limits.js';
import { AddQuestionSetupProgress1795383657496 } from './1795383657496-add-question-setup-progress.js';
import { AddSessionClusterResources1795383318237 } from './1795383318237-add-session-cluster-resources.js';
import { AddSessionTornDownAt1795382966748 } from './1795382966748-add-session-torn-down-at.js';
import { AddSessionNamespaces1795382466111 } from './1795382466111-add-session-namespaces.js';
import { Initial1795379905217 } from './1795379905217-initial.js';
import type { MigrationInterface } from 'typeorm';

/** Applied in this order; `npm run migration:generate` appends here. */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795379905217,
  AddSessionNamespaces1795382466111,
  AddSessionTornDownAt1795382966748,
  AddSessionClusterResources1795383318237,
  AddQuestionSetupProgress1795383657496,
  AddSessionNamespaceLimits1795383759432,
];
