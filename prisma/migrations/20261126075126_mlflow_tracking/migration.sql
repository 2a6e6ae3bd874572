-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "mlflowExperimentId" TEXT,
ADD COLUMN     "mlflowRunId" TEXT,
ADD COLUMN     "trackingDelayed" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "TrackingCall" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "workerName" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrackingCall_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TrackingCall_createdAt_idx" ON "TrackingCall"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "TrackingCall_jobId_seq_key" ON "TrackingCall"("jobId", "seq");

-- AddForeignKey
ALTER TABLE "TrackingCall" ADD CONSTRAINT "TrackingCall_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;
