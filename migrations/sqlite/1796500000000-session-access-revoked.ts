import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionAccessRevoked1796500000000 implements MigrationInterface {
  name = 'SessionAccessRevoked1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD COLUMN "accessRevokedAt" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "accessRevokedAt"');
  }
}
