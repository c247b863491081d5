import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DedicatedEnvironments1796286851961 implements MigrationInterface {
  name = 'DedicatedEnvironments1796286851961';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "cluster_leases" ("id" varchar(36) PRIMARY KEY NOT NULL, "provider" varchar(32) NOT NULL, "shape" varchar(200) NOT NULL, "state" varchar(16) NOT NULL, "sessionId" varchar(36), "alias" varchar(63), "handle" text, "failureReason" text, "createdAt" bigint NOT NULL, "readyAt" bigint, "leasedAt" bigint, "releasedAt" bigint, "version" integer NOT NULL)',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_12ed65d4f64a322f7f35d67fc0" ON "cluster_leases" ("sessionId") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_277e253b9ec2076ca9f78b5f24" ON "cluster_leases" ("state", "shape") ',
    );
    await queryRunner.query('DROP INDEX "IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query('DROP INDEX "IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query(
      'CREATE TABLE "temporary_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "examId" varchar(100) NOT NULL, "examTitle" varchar(200) NOT NULL, "candidateName" varchar(200) NOT NULL, "invitationId" varchar(36), "prefix" varchar(12) NOT NULL, "namespaces" text NOT NULL DEFAULT (\'[]\'), "namespaceLimits" text NOT NULL DEFAULT (\'{}\'), "clusterResources" text NOT NULL DEFAULT (\'[]\'), "state" varchar(32) NOT NULL, "failureReason" text, "tokenHash" varchar(64) NOT NULL, "seed" varchar(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL, "podAllowances" text NOT NULL DEFAULT (\'{}\'), "clientAddress" varchar(64), "readyUntil" bigint, "notepad" text, "environment" varchar(16) NOT NULL DEFAULT (\'shared\'), "dedicatedClusters" text NOT NULL DEFAULT (\'[]\'))',
    );
    await queryRunner.query(
      'INSERT INTO "temporary_sessions"("id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress", "readyUntil", "notepad") SELECT "id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress", "readyUntil", "notepad" FROM "sessions"',
    );
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('ALTER TABLE "temporary_sessions" RENAME TO "sessions"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_27638e000ae0a31056b5d3b5c7" ON "sessions" ("prefix") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bace6c68efc156fddac9b14bda" ON "sessions" ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_51478aca2fd540b0f705d8468e" ON "sessions" ("state", "deadline") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query('DROP INDEX "IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query('ALTER TABLE "sessions" RENAME TO "temporary_sessions"');
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "examId" varchar(100) NOT NULL, "examTitle" varchar(200) NOT NULL, "candidateName" varchar(200) NOT NULL, "invitationId" varchar(36), "prefix" varchar(12) NOT NULL, "namespaces" text NOT NULL DEFAULT (\'[]\'), "namespaceLimits" text NOT NULL DEFAULT (\'{}\'), "clusterResources" text NOT NULL DEFAULT (\'[]\'), "state" varchar(32) NOT NULL, "failureReason" text, "tokenHash" varchar(64) NOT NULL, "seed" varchar(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL, "podAllowances" text NOT NULL DEFAULT (\'{}\'), "clientAddress" varchar(64), "readyUntil" bigint, "notepad" text)',
    );
    await queryRunner.query(
      'INSERT INTO "sessions"("id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress", "readyUntil", "notepad") SELECT "id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress", "readyUntil", "notepad" FROM "temporary_sessions"',
    );
    await queryRunner.query('DROP TABLE "temporary_sessions"');
    await queryRunner.query(
      'CREATE INDEX "IDX_51478aca2fd540b0f705d8468e" ON "sessions" ("state", "deadline") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bace6c68efc156fddac9b14bda" ON "sessions" ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_27638e000ae0a31056b5d3b5c7" ON "sessions" ("prefix") ',
    );
    await queryRunner.query('DROP INDEX "IDX_277e253b9ec2076ca9f78b5f24"');
    await queryRunner.query('DROP INDEX "IDX_12ed65d4f64a322f7f35d67fc0"');
    await queryRunner.query('DROP TABLE "cluster_leases"');
  }
}
