-- AlterTable
ALTER TABLE "EventLogFloor" ADD COLUMN     "restoredAtId" BIGINT NOT NULL DEFAULT 0;
