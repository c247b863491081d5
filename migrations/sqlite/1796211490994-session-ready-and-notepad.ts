import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionReadyAndNotepad1796211490994 implements MigrationInterface {
  name = 'SessionReadyAndNotepad1796211490994';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query('DROP INDEX "IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query(
      'CREATE TABLE "temporary_sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "examId" varchar(100) NOT NULL, "examTitle" varchar(200) NOT NULL, "candidateName" varchar(200) NOT NULL, "invitationId" varchar(36), "prefix" varchar(12) NOT NULL, "namespaces" text NOT NULL DEFAULT (\'[]\'), "namespaceLimits" text NOT NULL DEFAULT (\'{}\'), "clusterResources" text NOT NULL DEFAULT (\'[]\'), "state" varchar(32) NOT NULL, "failureReason" text, "tokenHash" varchar(64) NOT NULL, "seed" varchar(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL, "podAllowances" text NOT NULL DEFAULT (\'{}\'), "clientAddress" varchar(64), "readyUntil" bigint, "notepad" text)',
    );
    await queryRunner.query(
      'INSERT INTO "temporary_sessions"("id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress") SELECT "id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress" FROM "sessions"',
    );
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('ALTER TABLE "temporary_sessions" RENAME TO "sessions"');
    await queryRunner.query(
      'CREATE INDEX "IDX_51478aca2fd540b0f705d8468e" ON "sessions" ("state", "deadline") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bace6c68efc156fddac9b14bda" ON "sessions" ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_27638e000ae0a31056b5d3b5c7" ON "sessions" ("prefix") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query('DROP INDEX "IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query('ALTER TABLE "sessions" RENAME TO "temporary_sessions"');
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "examId" varchar(100) NOT NULL, "examTitle" varchar(200) NOT NULL, "candidateName" varchar(200) NOT NULL, "invitationId" varchar(36), "prefix" varchar(12) NOT NULL, "namespaces" text NOT NULL DEFAULT (\'[]\'), "namespaceLimits" text NOT NULL DEFAULT (\'{}\'), "clusterResources" text NOT NULL DEFAULT (\'[]\'), "state" varchar(32) NOT NULL, "failureReason" text, "tokenHash" varchar(64) NOT NULL, "seed" varchar(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL, "podAllowances" text NOT NULL DEFAULT (\'{}\'), "clientAddress" varchar(64))',
    );
    await queryRunner.query(
      'INSERT INTO "sessions"("id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress") SELECT "id", "examId", "examTitle", "candidateName", "invitationId", "prefix", "namespaces", "namespaceLimits", "clusterResources", "state", "failureReason", "tokenHash", "seed", "durationSeconds", "passPercent", "createdAt", "startedAt", "deadline", "endedAt", "gradedAt", "tornDownAt", "version", "podAllowances", "clientAddress" FROM "temporary_sessions"',
    );
    await queryRunner.query('DROP TABLE "temporary_sessions"');
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
}
