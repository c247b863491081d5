import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionClientAddress1796210485636 implements MigrationInterface {
  name = 'SessionClientAddress1796210485636';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD "clientAddress" character varying(64)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "clientAddress"');
  }
}
