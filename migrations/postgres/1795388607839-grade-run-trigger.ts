import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GradeRunTrigger1795388607839 implements MigrationInterface {
  name = 'GradeRunTrigger1795388607839';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "grade_runs" ADD "trigger" character varying(16) NOT NULL DEFAULT \'submit\'',
    );
    await queryRunner.query('ALTER TABLE "grade_runs" ADD "durationMs" integer');
    await queryRunner.query('ALTER TABLE "grade_runs" ADD "requests" integer');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "grade_runs" DROP COLUMN "requests"');
    await queryRunner.query('ALTER TABLE "grade_runs" DROP COLUMN "durationMs"');
    await queryRunner.query('ALTER TABLE "grade_runs" DROP COLUMN "trigger"');
  }
}
