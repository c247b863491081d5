import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GradeRunScore1795390312495 implements MigrationInterface {
  name = 'GradeRunScore1795390312495';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_5b14693153823174aeb59d0e9c"');
    await queryRunner.query(
      'CREATE TABLE "temporary_grade_runs" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "status" varchar(16) NOT NULL, "startedAt" bigint NOT NULL, "finishedAt" bigint, "pointsAwarded" integer NOT NULL DEFAULT (0), "pointsPossible" integer NOT NULL DEFAULT (0), "passed" boolean, "note" text, "trigger" varchar(16) NOT NULL DEFAULT (\'submit\'), "durationMs" integer, "requests" integer, "score" text)',
    );
    await queryRunner.query(
      'INSERT INTO "temporary_grade_runs"("id", "sessionId", "status", "startedAt", "finishedAt", "pointsAwarded", "pointsPossible", "passed", "note", "trigger", "durationMs", "requests") SELECT "id", "sessionId", "status", "startedAt", "finishedAt", "pointsAwarded", "pointsPossible", "passed", "note", "trigger", "durationMs", "requests" FROM "grade_runs"',
    );
    await queryRunner.query('DROP TABLE "grade_runs"');
    await queryRunner.query('ALTER TABLE "temporary_grade_runs" RENAME TO "grade_runs"');
    await queryRunner.query(
      'CREATE INDEX "IDX_5b14693153823174aeb59d0e9c" ON "grade_runs" ("sessionId", "startedAt") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_5b14693153823174aeb59d0e9c"');
    await queryRunner.query('ALTER TABLE "grade_runs" RENAME TO "temporary_grade_runs"');
    await queryRunner.query(
      'CREATE TABLE "grade_runs" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "status" varchar(16) NOT NULL, "startedAt" bigint NOT NULL, "finishedAt" bigint, "pointsAwarded" integer NOT NULL DEFAULT (0), "pointsPossible" integer NOT NULL DEFAULT (0), "passed" boolean, "note" text, "trigger" varchar(16) NOT NULL DEFAULT (\'submit\'), "durationMs" integer, "requests" integer)',
    );
    await queryRunner.query(
      'INSERT INTO "grade_runs"("id", "sessionId", "status", "startedAt", "finishedAt", "pointsAwarded", "pointsPossible", "passed", "note", "trigger", "durationMs", "requests") SELECT "id", "sessionId", "status", "startedAt", "finishedAt", "pointsAwarded", "pointsPossible", "passed", "note", "trigger", "durationMs", "requests" FROM "temporary_grade_runs"',
    );
    await queryRunner.query('DROP TABLE "temporary_grade_runs"');
    await queryRunner.query(
      'CREATE INDEX "IDX_5b14693153823174aeb59d0e9c" ON "grade_runs" ("sessionId", "startedAt") ',
    );
  }
}
