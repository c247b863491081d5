import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionQuestionSetupSteps1796235949860 implements MigrationInterface {
  name = 'SessionQuestionSetupSteps1796235949860';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "session_questions" ADD "setupSteps" text NOT NULL DEFAULT \'[]\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "session_questions" DROP COLUMN "setupSteps"');
  }
}
