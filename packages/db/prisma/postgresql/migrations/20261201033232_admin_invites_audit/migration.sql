-- AlterTable
ALTER TABLE "User" ADD COLUMN     "deactivatedAt" TIMESTAMP(3),
ADD COLUMN     "isAdmin" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "DeploymentSettings" (
    "id" INTEGER NOT NULL,
    "signupMode" TEXT NOT NULL DEFAULT 'open',
    "adminChosen" BOOLEAN NOT NULL DEFAULT false,
    "adminVersion" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "DeploymentSettings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Invite" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "maxUses" INTEGER NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "Invite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "actorId" TEXT,
    "targetId" TEXT,
    "username" TEXT,
    "address" TEXT,
    "data" TEXT,
    "count" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "aggregateKey" TEXT,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Invite_tokenHash_key" ON "Invite"("tokenHash");

-- CreateIndex
CREATE INDEX "Invite_createdAt_idx" ON "Invite"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_aggregateKey_key" ON "AuditEvent"("aggregateKey");

-- CreateIndex
CREATE INDEX "AuditEvent_kind_id_idx" ON "AuditEvent"("kind", "id");

-- CreateIndex
CREATE INDEX "AuditEvent_actorId_id_idx" ON "AuditEvent"("actorId", "id");

-- CreateIndex
CREATE INDEX "AuditEvent_targetId_id_idx" ON "AuditEvent"("targetId", "id");

-- CreateIndex
CREATE INDEX "AuditEvent_lastAt_idx" ON "AuditEvent"("lastAt");
