-- Optuna keeps its studies in a schema of its own (its tables are created at first use by the workers).
CREATE SCHEMA IF NOT EXISTS "optuna";

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED');

-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "prunedAtEpoch" INTEGER,
ADD COLUMN     "sweepId" TEXT,
ADD COLUMN     "trialNumber" INTEGER,
ADD COLUMN     "trialParams" JSONB,
ADD COLUMN     "trialState" TEXT,
ADD COLUMN     "trialValue" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'QUEUED',
    "priority" "JobPriority" NOT NULL DEFAULT 'NORMAL',
    "config" JSONB NOT NULL,
    "settings" JSONB NOT NULL,
    "configSource" TEXT,
    "nTrials" INTEGER NOT NULL,
    "parallel" INTEGER NOT NULL,
    "deadlineAt" TIMESTAMP(3),
    "bestValue" DOUBLE PRECISION,
    "bestTrialNumber" INTEGER,
    "bestJobId" TEXT,
    "importances" JSONB,
    "failureReason" TEXT,
    "cancelRequestedAt" TIMESTAMP(3),
    "mlflowExperimentId" TEXT,
    "mlflowRunId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Sweep_projectId_createdAt_idx" ON "Sweep"("projectId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE UNIQUE INDEX "TrainingJob_sweepId_trialNumber_key" ON "TrainingJob"("sweepId", "trialNumber");

-- AddForeignKey
ALTER TABLE "TrainingJob" ADD CONSTRAINT "TrainingJob_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
