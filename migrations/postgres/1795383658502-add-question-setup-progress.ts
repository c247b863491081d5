import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddQuestionSetupProgress1795383658502 implements MigrationInterface {
  name = 'AddQuestionSetupProgress1795383658502';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "session_questions" ADD "setupWaits" text NOT NULL DEFAULT \'[]\'',
    );
    await queryRunner.query(
      'ALTER TABLE "session_questions" ADD "setupStatus" character varying(16) NOT NULL DEFAULT \'pending\'',
    );
    await queryRunner.query('ALTER TABLE "session_questions" ADD "setupMessage" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "session_questions" DROP COLUMN "setupMessage"');
    await queryRunner.query('ALTER TABLE "session_questions" DROP COLUMN "setupStatus"');
    await queryRunner.query('ALTER TABLE "session_questions" DROP COLUMN "setupWaits"');
  }
}
