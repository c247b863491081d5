import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionPodAllowances1796196952269 implements MigrationInterface {
  name = 'SessionPodAllowances1796196952269';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "podAllowances" text NOT NULL DEFAULT \'{}\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "podAllowances"');
  }
}
