import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionQuestionFiles1796236664143 implements MigrationInterface {
  name = 'SessionQuestionFiles1796236664143';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "IDX_a62ca919f01659d8c162f84e9b"');
    await queryRunner.query('DROP INDEX "IDX_f2310853d2d54821623dfe95bf"');
    await queryRunner.query(
      'CREATE TABLE "temporary_session_questions" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "position" integer NOT NULL, "questionId" varchar(100) NOT NULL, "questionDigest" varchar(64) NOT NULL, "title" varchar(200) NOT NULL, "domain" varchar(40) NOT NULL, "weight" integer NOT NULL, "cluster" varchar(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT (\'[]\'), "setupStatus" varchar(16) NOT NULL DEFAULT (\'pending\'), "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT (0), "note" text, "answeredAt" bigint, "setupSteps" text NOT NULL DEFAULT (\'[]\'), "files" text NOT NULL DEFAULT (\'[]\'), CONSTRAINT "FK_8e0db7473d7a4e28d9aa5f2902d" FOREIGN KEY ("sessionId") REFERENCES "sessions" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
    );
    await queryRunner.query(
      'INSERT INTO "temporary_session_questions"("id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt", "setupSteps") SELECT "id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt", "setupSteps" FROM "session_questions"',
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
      'CREATE TABLE "session_questions" ("id" varchar(36) PRIMARY KEY NOT NULL, "sessionId" varchar(36) NOT NULL, "position" integer NOT NULL, "questionId" varchar(100) NOT NULL, "questionDigest" varchar(64) NOT NULL, "title" varchar(200) NOT NULL, "domain" varchar(40) NOT NULL, "weight" integer NOT NULL, "cluster" varchar(63) NOT NULL, "variables" text NOT NULL, "task" text NOT NULL, "setup" text NOT NULL, "checks" text NOT NULL, "solution" text NOT NULL, "setupWaits" text NOT NULL DEFAULT (\'[]\'), "setupStatus" varchar(16) NOT NULL DEFAULT (\'pending\'), "setupMessage" text, "answer" text, "flagged" boolean NOT NULL DEFAULT (0), "note" text, "answeredAt" bigint, "setupSteps" text NOT NULL DEFAULT (\'[]\'), CONSTRAINT "FK_8e0db7473d7a4e28d9aa5f2902d" FOREIGN KEY ("sessionId") REFERENCES "sessions" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
    );
    await queryRunner.query(
      'INSERT INTO "session_questions"("id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt", "setupSteps") SELECT "id", "sessionId", "position", "questionId", "questionDigest", "title", "domain", "weight", "cluster", "variables", "task", "setup", "checks", "solution", "setupWaits", "setupStatus", "setupMessage", "answer", "flagged", "note", "answeredAt", "setupSteps" FROM "temporary_session_questions"',
    );
    await queryRunner.query('DROP TABLE "temporary_session_questions"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f2310853d2d54821623dfe95bf" ON "session_questions" ("sessionId", "position") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_a62ca919f01659d8c162f84e9b" ON "session_questions" ("sessionId", "questionId") ',
    );
  }
}
