import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionNamespaces1795382467054 implements MigrationInterface {
  name = 'AddSessionNamespaces1795382467054';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD "namespaces" text NOT NULL DEFAULT \'[]\'');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "namespaces"');
  }
}
