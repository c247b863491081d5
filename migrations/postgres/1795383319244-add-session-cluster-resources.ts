import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionClusterResources1795383319244 implements MigrationInterface {
  name = 'AddSessionClusterResources1795383319244';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "clusterResources" text NOT NULL DEFAULT \'[]\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "clusterResources"');
  }
}
