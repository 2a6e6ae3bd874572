-- CreateEnum
CREATE TYPE "JobPriority" AS ENUM ('LOW', 'NORMAL', 'HIGH');

-- DropIndex
DROP INDEX "TrainingJob_projectId_createdAt_idx";

-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "bestEpoch" INTEGER,
ADD COLUMN     "bestMetric" DOUBLE PRECISION,
ADD COLUMN     "bestMetricName" TEXT,
ADD COLUMN     "cancelRequestedAt" TIMESTAMP(3),
ADD COLUMN     "configSource" TEXT,
ADD COLUMN     "currentEpoch" INTEGER,
ADD COLUMN     "etaSeconds" INTEGER,
ADD COLUMN     "failureClass" TEXT,
ADD COLUMN     "failureReason" TEXT,
ADD COLUMN     "heartbeatAt" TIMESTAMP(3),
ADD COLUMN     "logTail" TEXT,
ADD COLUMN     "model" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "priority" "JobPriority" NOT NULL DEFAULT 'NORMAL',
ADD COLUMN     "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "retryOfId" TEXT,
ADD COLUMN     "task" TEXT NOT NULL DEFAULT 'detect',
ADD COLUMN     "totalEpochs" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "workerName" TEXT;

-- CreateTable
CREATE TABLE "JobEpoch" (
    "jobId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "losses" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "lr" JSONB NOT NULL,
    "epochTime" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JobEpoch_pkey" PRIMARY KEY ("jobId","epoch")
);

-- CreateTable
CREATE TABLE "JobLog" (
    "jobId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "stream" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JobLog_pkey" PRIMARY KEY ("jobId","seq")
);

-- CreateTable
CREATE TABLE "JobEvent" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JobEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "JobEvent_jobId_createdAt_idx" ON "JobEvent"("jobId", "createdAt");

-- CreateIndex
CREATE INDEX "TrainingJob_projectId_createdAt_id_idx" ON "TrainingJob"("projectId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "TrainingJob_projectId_status_createdAt_idx" ON "TrainingJob"("projectId", "status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "TrainingJob_projectId_createdById_createdAt_idx" ON "TrainingJob"("projectId", "createdById", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "JobEpoch" ADD CONSTRAINT "JobEpoch_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobLog" ADD CONSTRAINT "JobLog_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobEvent" ADD CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

