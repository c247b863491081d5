import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795384372310 implements MigrationInterface {
  name = 'Initial1795384372310';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "api_tokens" ("id" character varying(36) NOT NULL, "name" character varying(100) NOT NULL, "role" character varying(16) NOT NULL, "tokenHash" character varying(64) NOT NULL, "createdAt" bigint NOT NULL, "revokedAt" bigint, CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_cdac8e064e6e9c2e0835d1c1b8" ON "api_tokens"  ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "check_results" ("id" character varying(36) NOT NULL, "gradeRunId" character varying(36) NOT NULL, "sessionQuestionId" character varying(36) NOT NULL, "checkId" character varying(100) NOT NULL, "status" character varying(16) NOT NULL, "pointsAwarded" integer NOT NULL, "pointsPossible" integer NOT NULL, "message" text NOT NULL, "durationMs" integer, CONSTRAINT "PK_2af4caf20da46ce834ba71ad38f" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_d6f3422ee30dcf7d9654e9dd9d" ON "check_results"  ("gradeRunId", "sessionQuestionId", "checkId") ',
    );
    await queryRunner.query(
      'CREATE TABLE "grade_runs" ("id" character varying(36) NOT NULL, "sessionId" character varying(36) NOT NULL, "status" character varying(16) NOT NULL, "startedAt" bigint NOT NULL, "finishedAt" bigint, "pointsAwarded" integer NOT NULL DEFAULT \'0\', "pointsPossible" integer NOT NULL DEFAULT \'0\', "passed" boolean, "note" text, CONSTRAINT "PK_264d536653a53774607da00248e" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_5b14693153823174aeb59d0e9c" ON "grade_runs"  ("sessionId", "startedAt") ',
    );
    await queryRunner.query(
      'CREATE TABLE "invitations" ("id" character varying(36) NOT NULL, "codeHash" character varying(64) NOT NULL, "examId" character varying(100) NOT NULL, "candidateName" character varying(200) NOT NULL, "createdBy" character varying(36) NOT NULL, "createdAt" bigint NOT NULL, "expiresAt" bigint NOT NULL, "usedAt" bigint, "sessionId" character varying(36), CONSTRAINT "PK_5dec98cfdfd562e4ad3648bbb07" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_be9ed2c1bf0e04c0a4d1e190f1" ON "invitations"  ("codeHash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "session_events" ("id" SERIAL NOT NULL, "sessionId" character varying(36) NOT NULL, "fromState" character varying(32), "toState" character varying(32) NOT NULL, "reason" text NOT NULL, "at" bigint NOT NULL, CONSTRAINT "PK_aeae988940cef0a489a14200af3" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_3f72ace3ac434b51078161c46f" ON "session_events"  ("sessionId", "at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "session_questions" ("id" character varying(36) NOT NULL, "sessionId" character varying(36) NOT NULL, "position" integer NOT NULL, "questionId" character varying(100) NOT NULL, "questionDigest" character varying(64) NOT NULL, "title" character varying(200) NOT NULL, "domain" character varying(40) NOT NULL, "weight" integer NOT NULL, "cluster" character varying(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT \'[]\', "setupStatus" character varying(16) NOT NULL DEFAULT \'pending\', "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT false, "note" text, "answeredAt" bigint, CONSTRAINT "PK_620bcd90fbd1cecc42ec217ac75" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a62ca919f01659d8c162f84e9b" ON "session_questions"  ("sessionId", "questionId") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f2310853d2d54821623dfe95bf" ON "session_questions"  ("sessionId", "position") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" character varying(36) NOT NULL, "examId" character varying(100) NOT NULL, "examTitle" character varying(200) NOT NULL, "candidateName" character varying(200) NOT NULL, "invitationId" character varying(36), "prefix" character varying(12) NOT NULL, "namespaces" text NOT NULL DEFAULT \'[]\', "namespaceLimits" text NOT NULL DEFAULT \'{}\', "clusterResources" text NOT NULL DEFAULT \'[]\', "state" character varying(32) NOT NULL, "failureReason" text, "tokenHash" character varying(64) NOT NULL, "seed" character varying(64) NOT NULL, "durationSeconds" integer NOT NULL, "passPercent" integer NOT NULL, "createdAt" bigint NOT NULL, "startedAt" bigint, "deadline" bigint, "endedAt" bigint, "gradedAt" bigint, "tornDownAt" bigint, "version" integer NOT NULL, CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_27638e000ae0a31056b5d3b5c7" ON "sessions"  ("prefix") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bace6c68efc156fddac9b14bda" ON "sessions"  ("tokenHash") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_51478aca2fd540b0f705d8468e" ON "sessions"  ("state", "deadline") ',
    );
    await queryRunner.query(
      'ALTER TABLE "session_questions" ADD CONSTRAINT "FK_8e0db7473d7a4e28d9aa5f2902d" FOREIGN KEY ("sessionId") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "session_questions" DROP CONSTRAINT "FK_8e0db7473d7a4e28d9aa5f2902d"',
    );
    await queryRunner.query('DROP INDEX "public"."IDX_51478aca2fd540b0f705d8468e"');
    await queryRunner.query('DROP INDEX "public"."IDX_bace6c68efc156fddac9b14bda"');
    await queryRunner.query('DROP INDEX "public"."IDX_27638e000ae0a31056b5d3b5c7"');
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('DROP INDEX "public"."IDX_f2310853d2d54821623dfe95bf"');
    await queryRunner.query('DROP INDEX "public"."IDX_a62ca919f01659d8c162f84e9b"');
    await queryRunner.query('DROP TABLE "session_questions"');
    await queryRunner.query('DROP INDEX "public"."IDX_3f72ace3ac434b51078161c46f"');
    await queryRunner.query('DROP TABLE "session_events"');
    await queryRunner.query('DROP INDEX "public"."IDX_be9ed2c1bf0e04c0a4d1e190f1"');
    await queryRunner.query('DROP TABLE "invitations"');
    await queryRunner.query('DROP INDEX "public"."IDX_5b14693153823174aeb59d0e9c"');
    await queryRunner.query('DROP TABLE "grade_runs"');
    await queryRunner.query('DROP INDEX "public"."IDX_d6f3422ee30dcf7d9654e9dd9d"');
    await queryRunner.query('DROP TABLE "check_results"');
    await queryRunner.query('DROP INDEX "public"."IDX_cdac8e064e6e9c2e0835d1c1b8"');
    await queryRunner.query('DROP TABLE "api_tokens"');
  }
}
