import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionNamespaceLimits1795383760437 implements MigrationInterface {
  name = 'AddSessionNamespaceLimits1795383760437';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "namespaceLimits" text NOT NULL DEFAULT \'{}\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "namespaceLimits"');
  }
}
