import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GradeRunScore1795390313708 implements MigrationInterface {
  name = 'GradeRunScore1795390313708';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "grade_runs" ADD "score" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "grade_runs" DROP COLUMN "score"');
  }
}
