import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionQuestionFiles1796236681437 implements MigrationInterface {
  name = 'SessionQuestionFiles1796236681437';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "session_questions" ADD "files" text NOT NULL DEFAULT \'[]\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "session_questions" DROP COLUMN "files"');
  }
}
