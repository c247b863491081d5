import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LeaseOwner1796400000000 implements MigrationInterface {
  name = 'LeaseOwner1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "cluster_leases" ADD "owner" character varying(120)');
    await queryRunner.query('ALTER TABLE "cluster_leases" ADD "heartbeatAt" bigint');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "cluster_leases" DROP COLUMN "heartbeatAt"');
    await queryRunner.query('ALTER TABLE "cluster_leases" DROP COLUMN "owner"');
  }
}
