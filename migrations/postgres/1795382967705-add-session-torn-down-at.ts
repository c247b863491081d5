import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionTornDownAt1795382967705 implements MigrationInterface {
  name = 'AddSessionTornDownAt1795382967705';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD "tornDownAt" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "tornDownAt"');
  }
}
