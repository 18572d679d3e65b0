-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_EventLogFloor" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "prunedThroughId" BIGINT NOT NULL DEFAULT 0,
    "restoredAtId" BIGINT NOT NULL DEFAULT 0
);
INSERT INTO "new_EventLogFloor" ("id", "prunedThroughId") SELECT "id", "prunedThroughId" FROM "EventLogFloor";
DROP TABLE "EventLogFloor";
ALTER TABLE "new_EventLogFloor" RENAME TO "EventLogFloor";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
