import { AddSessionNamespaceLimits1795383760437 } from './1795383760437-add-session-namespace-limits.js';
import { AddQuestionSetupProgress1795383658502 } from './1795383658502-add-question-setup-progress.js';
import { AddSessionClusterResources1795383319244 } from './1795383319244-add-session-cluster-resources.js';
import { AddSessionTornDownAt1795382967705 } from './1795382967705-add-session-torn-down-at.js';
import { AddSessionNamespaces1795382467054 } from './1795382467054-add-session-namespaces.js';
import { Initial1795379906244 } from './1795379906244-initial.js';
import type { MigrationInterface } from 'typeorm';

/** Applied in this order; `npm run migration:generate` appends here. */
export const POSTGRES_MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795379906244,
  AddSessionNamespaces1795382467054,
  AddSessionTornDownAt1795382967705,
  AddSessionClusterResources1795383319244,
  AddQuestionSetupProgress1795383658502,
  AddSessionNamespaceLimits1795383760437,
];
