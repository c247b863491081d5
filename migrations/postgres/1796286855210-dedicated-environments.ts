import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DedicatedEnvironments1796286855210 implements MigrationInterface {
  name = 'DedicatedEnvironments1796286855210';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "cluster_leases" ("id" character varying(36) NOT NULL, "provider" character varying(32) NOT NULL, "shape" character varying(200) NOT NULL, "state" character varying(16) NOT NULL, "sessionId" character varying(36), "alias" character varying(63), "handle" text, "failureReason" text, "createdAt" bigint NOT NULL, "readyAt" bigint, "leasedAt" bigint, "releasedAt" bigint, "version" integer NOT NULL, CONSTRAINT "PK_616c62d2eb4d8c5323adab826f6" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_12ed65d4f64a322f7f35d67fc0" ON "cluster_leases"  ("sessionId") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_277e253b9ec2076ca9f78b5f24" ON "cluster_leases"  ("state", "shape") ',
    );
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "environment" character varying(16) NOT NULL DEFAULT \'shared\'',
    );
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "dedicatedClusters" text NOT NULL DEFAULT \'[]\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "dedicatedClusters"');
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "environment"');
    await queryRunner.query('DROP INDEX "public"."IDX_277e253b9ec2076ca9f78b5f24"');
    await queryRunner.query('DROP INDEX "public"."IDX_12ed65d4f64a322f7f35d67fc0"');
    await queryRunner.query('DROP TABLE "cluster_leases"');
  }
}
