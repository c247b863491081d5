import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionAccessRevoked1796500000000 implements MigrationInterface {
  name = 'SessionAccessRevoked1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD COLUMN "accessRevokedAt" bigint');
    // Graded sessions were revoked before their grade (grading's first step then).
    await queryRunner.query(
      'UPDATE "sessions" SET "accessRevokedAt" = "gradedAt" WHERE "gradedAt" IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "accessRevokedAt"');
  }
}
