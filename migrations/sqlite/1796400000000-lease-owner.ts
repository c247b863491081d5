import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LeaseOwner1796400000000 implements MigrationInterface {
  name = 'LeaseOwner1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "cluster_leases" ADD COLUMN "owner" varchar(120)');
    await queryRunner.query('ALTER TABLE "cluster_leases" ADD COLUMN "heartbeatAt" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "cluster_leases" DROP COLUMN "heartbeatAt"');
    await queryRunner.query('ALTER TABLE "cluster_leases" DROP COLUMN "owner"');
  }
}
