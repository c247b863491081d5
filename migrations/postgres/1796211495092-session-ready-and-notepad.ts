import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionReadyAndNotepad1796211495092 implements MigrationInterface {
  name = 'SessionReadyAndNotepad1796211495092';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" ADD "readyUntil" bigint');
    await queryRunner.query('ALTER TABLE "sessions" ADD "notepad" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "notepad"');
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "readyUntil"');
  }
}
