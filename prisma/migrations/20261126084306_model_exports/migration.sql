-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "mlflowArtifactUri" TEXT;

-- CreateTable
CREATE TABLE "ModelExport" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "variant" TEXT NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "createdById" TEXT NOT NULL,
    "workerName" TEXT,
    "failureReason" TEXT,
    "artifactId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ModelExport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ModelExport_jobId_createdAt_idx" ON "ModelExport"("jobId", "createdAt");

-- CreateIndex
CREATE INDEX "ModelExport_status_createdAt_idx" ON "ModelExport"("status", "createdAt");

-- AddForeignKey
ALTER TABLE "ModelExport" ADD CONSTRAINT "ModelExport_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelExport" ADD CONSTRAINT "ModelExport_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelExport" ADD CONSTRAINT "ModelExport_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "JobArtifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;
