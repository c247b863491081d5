import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795384371336 implements MigrationInterface {
  name = 'Initial1795384371336';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "api_tokens" ("id" varchar(36) PRIMARY KEY NOT NULL, "name" varchar(100) NOT NULL, "role" varchar(16) NOT NULL, "tokenHash" varchar(64) NOT NULL, "createdAt" bigint NOT NULL, "revokedAt" bigint)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_cdac8e064e6e9c2e0835d1c1b8" ON "api_tokens" ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "check_results" ("id" varchar(36) PRIMARY KEY NOT NULL, "gradeRunId" varchar(36) NOT NULL, "sessionQuestionId" varchar(36) NOT NULL, "checkId" varchar(100) NOT NULL, "status" varchar(16) NOT NULL, "pointsAwarded" integer NOT NULL, "pointsPossible" integer NOT NULL, "message" text NOT NULL, "durationMs" integer)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_d6f3422ee30dcf7d9654e9dd9d" ON "check_results" ("gradeRunId", "sessionQuestionId", "checkId") ',
    );
    await queryRunner.query(
      'CREATE TABLE "grade_runs" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "status" varchar(16) NOT NULL, "startedAt" bigint NOT NULL, "finishedAt" bigint, "pointsAwarded" integer NOT NULL DEFAULT (0), "pointsPossible" integer NOT NULL DEFAULT (0), "passed" boolean, "note" text)',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_5b14693153823174aeb59d0e9c" ON "grade_runs" ("sessionId", "startedAt") ',
    );
    await queryRunner.query(
      'CREATE TABLE "invitations" ("id" varchar(36) PRIMARY KEY NOT NULL, "codeHash" varchar(64) NOT NULL, "examId" varchar(100) NOT NULL, "candidateName" varchar(200) NOT NULL, "createdBy" varchar(36) NOT NULL, "createdAt" bigint NOT NULL, "expiresAt" bigint NOT NULL, "usedAt" bigint, "sessionId" varchar(36))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_be9ed2c1bf0e04c0a4d1e190f1" ON "invitations" ("codeHash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "session_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "sessionId" varchar(36) NOT NULL, "fromState" varchar(32), "toState" varchar(32) NOT NULL, "reason" text NOT NULL, "at" bigint NOT NULL)',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_3f72ace3ac434b51078161c46f" ON "session_events" ("sessionId", "at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "session_questions" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "position" integer NOT NULL, "questionId" varchar(100) NOT NULL, "questionDigest" varchar(64) NOT NULL, "title" varchar(200) NOT NULL, "domain" varchar(40) NOT NULL, "weight" integer NOT NULL, "cluster" varchar(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT (\'[]\'), "setupStatus" varchar(16) NOT NULL DEFAULT (\'pending\'), "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT (0), "note" text, "answeredAt" bigint)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a62ca919f01659d8c162f84e9b" ON "session_questions" ("sessionId", "questionId") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f2310853d2d54821623dfe95bf" ON "session_questions" ("sessionId", "position") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" varchar(36) PRIMARY KEY NOT NULL, "examId" varchar(100) NOT NULL, "examTitle" varchar(200) NOT NULL, "candidateName" varchar(200) NOT NULL, "invitationId" varchar(36), "prefix" varchar(12) NOT NULL, "namespaces" text NOT NULL DEFAULT (\'[]\'), "namespaceLimits" text NOT NULL DEFAULT (\'{}\'), "clusterResources" text NOT NULL DEFAULT (\'[]\'), "state" varchar(32) NOT NULL, "failureReason" text, "tokenHash" varchar(64) NOT NULL, "seed" varchar(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL)',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_27638e000ae0a31056b5d3b5c7" ON "sessions" ("prefix") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bace6c68efc156fddac9b14bda" ON "sessions" ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_51478aca2fd540b0f705d8468e" ON "sessions" ("state", "deadline") ',
    );
    await queryRunner.query('DROP INDEX "IDX_a62ca919f01659d8c162f84e9b"');
    await queryRunner.query('DROP INDEX "IDX_f2310853d2d54821623dfe95bf"');
    await queryRunner.query(
      'CREATE TABLE "temporary_session_questions" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "position" integer NOT NULL, "questionId" varchar(100) NOT NULL, "questionDigest" varchar(64) NOT NULL, "title" varchar(200) NOT NULL, "domain" varchar(40) NOT NULL, "weight" integer NOT NULL, "cluster" varchar(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT (\'[]\'), "setupStatus" varchar(16) NOT NULL DEFAULT (\'pending\'), "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT (0), "note" text, "answeredAt" bigint, CONSTRAINT "FK_8e0db7473d7a4e28d9aa5f2902d" FOREIGN KEY ("sessionId") REFERENCES "sessions" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
    );
    await queryRunner.query(
      'INSERT INTO "temporary_session_questions"("id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt") SELECT "id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt" FROM "session_questions"',
    );
    await queryRunner.query('DROP TABLE "session_questions"');
    await queryRunner.query(
      'ALTER TABLE "temporary_session_questions" RENAME TO "session_questions"',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a62ca919f01659d8c162f84e9b" ON "session_questions" ("sessionId", "questionId") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f2310853d2d54821623dfe95bf" ON "session_questions" ("sessionId", "position") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_f2310853d2d54821623dfe95bf"');
    await queryRunner.query('DROP INDEX "IDX_a62ca919f01659d8c162f84e9b"');
    await queryRunner.query(
      'ALTER TABLE "session_questions" RENAME TO "temporary_session_questions"',
    );
    await queryRunner.query(
      'CREATE TABLE "session_questions" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "position" integer NOT NULL, "questionId" varchar(100) NOT NULL, "questionDigest" varchar(64) NOT NULL, "title" varchar(200) NOT NULL, "domain" varchar(40) NOT NULL, "weight" integer NOT NULL, "cluster" varchar(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT (\'[]\'), "setupStatus" varchar(16) NOT NULL DEFAULT (\'pending\'), "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT (0), "note" text, "answeredAt" bigint)',
    );
    await queryRunner.query(
      'INSERT INTO "session_questions"("id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt") SELECT "id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt" FROM "temporary_session_questions"',
    );
    await queryRunner.query('DROP TABLE "temporary_session_questions"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f2310853d2d54821623dfe95bf" ON "session_questions" ("sessionId", "position") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a62ca919f01659d8c162f84e9b" ON "session_questions" ("sessionId", "questionId") ',
    );
    await queryRunner.query('DROP INDEX "IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query('DROP INDEX "IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('DROP INDEX "IDX_f2310853d2d54821623dfe95bf"');
    await queryRunner.query('DROP INDEX "IDX_a62ca919f01659d8c162f84e9b"');
    await queryRunner.query('DROP TABLE "session_questions"');
    await queryRunner.query('DROP INDEX "IDX_3f72ace3ac434b51078161c46f"');
    await queryRunner.query('DROP TABLE "session_events"');
    await queryRunner.query('DROP INDEX "IDX_be9ed2c1bf0e04c0a4d1e190f1"');
    await queryRunner.query('DROP TABLE "invitations"');
    await queryRunner.query('DROP INDEX "IDX_5b14693153823174aeb59d0e9c"');
    await queryRunner.query('DROP TABLE "grade_runs"');
    await queryRunner.query('DROP INDEX "IDX_d6f3422ee30dcf7d9654e9dd9d"');
    await queryRunner.query('DROP TABLE "check_results"');
    await queryRunner.query('DROP INDEX "IDX_cdac8e064e6e9c2e0835d1c1b8"');
    await queryRunner.query('DROP TABLE "api_tokens"');
  }
}
