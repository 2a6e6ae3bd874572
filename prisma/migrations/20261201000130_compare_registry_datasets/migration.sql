-- CreateEnum
CREATE TYPE "DatasetVersionStatus" AS ENUM ('UPLOADING', 'VALIDATING', 'READY', 'INVALID');

-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "modelName" TEXT,
ADD COLUMN     "registerModels" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "classMetrics" JSONB,
ADD COLUMN     "datasetVersionId" TEXT;

-- CreateTable
CREATE TABLE "JobResourceSample" (
    "jobId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "spanSeconds" INTEGER NOT NULL DEFAULT 5,
    "cpuPercent" DOUBLE PRECISION,
    "rssBytes" BIGINT,
    "hostCpuPercent" DOUBLE PRECISION,
    "gpuUtil" DOUBLE PRECISION,
    "gpuMemUsedMb" DOUBLE PRECISION,
    "gpus" JSONB,

    CONSTRAINT "JobResourceSample_pkey" PRIMARY KEY ("jobId","at")
);

-- CreateTable
CREATE TABLE "RegisteredModel" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RegisteredModel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "jobId" TEXT,
    "artifactId" TEXT,
    "metrics" JSONB NOT NULL,
    "bestMetric" DOUBLE PRECISION,
    "bestMetricName" TEXT,
    "lineage" JSONB NOT NULL,
    "configHash" TEXT NOT NULL,
    "dataset" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "mlflowVersion" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelAlias" (
    "modelId" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("modelId","alias")
);

-- CreateTable
CREATE TABLE "RegistryCall" (
    "id" BIGSERIAL NOT NULL,
    "modelId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RegistryCall_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dataset" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetVersion" (
    "id" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "DatasetVersionStatus" NOT NULL DEFAULT 'UPLOADING',
    "parentId" TEXT,
    "task" TEXT,
    "uploadKey" TEXT,
    "uploadId" TEXT,
    "uploadName" TEXT,
    "uploadSize" BIGINT,
    "removedPaths" JSONB,
    "manifestHash" TEXT,
    "manifestKey" TEXT,
    "fileCount" INTEGER,
    "totalBytes" BIGINT,
    "classNames" JSONB,
    "report" JSONB,
    "stats" JSONB,
    "workerName" TEXT,
    "failureReason" TEXT,
    "archivedAt" TIMESTAMP(3),
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "validatedAt" TIMESTAMP(3),

    CONSTRAINT "DatasetVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetItem" (
    "versionId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "split" TEXT,
    "width" INTEGER,
    "height" INTEGER,
    "labels" JSONB,
    "classIds" INTEGER[],
    "errorCount" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "DatasetItem_pkey" PRIMARY KEY ("versionId","path")
);

-- CreateIndex
CREATE UNIQUE INDEX "RegisteredModel_projectId_key" ON "RegisteredModel"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_jobId_key" ON "ModelVersion"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_modelId_version_key" ON "ModelVersion"("modelId", "version");

-- CreateIndex
CREATE INDEX "RegistryCall_modelId_id_idx" ON "RegistryCall"("modelId", "id");

-- CreateIndex
CREATE INDEX "RegistryCall_nextAttemptAt_idx" ON "RegistryCall"("nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_teamId_name_key" ON "Dataset"("teamId", "name");

-- CreateIndex
CREATE INDEX "DatasetVersion_status_updatedAt_idx" ON "DatasetVersion"("status", "updatedAt");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetVersion_datasetId_version_key" ON "DatasetVersion"("datasetId", "version");

-- CreateIndex
CREATE INDEX "DatasetItem_versionId_kind_path_idx" ON "DatasetItem"("versionId", "kind", "path");

-- CreateIndex
CREATE INDEX "TrainingJob_datasetVersionId_idx" ON "TrainingJob"("datasetVersionId");

-- AddForeignKey
ALTER TABLE "TrainingJob" ADD CONSTRAINT "TrainingJob_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "DatasetVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobResourceSample" ADD CONSTRAINT "JobResourceSample_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegisteredModel" ADD CONSTRAINT "RegisteredModel_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "RegisteredModel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "RegisteredModel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ModelVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryCall" ADD CONSTRAINT "RegistryCall_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "RegisteredModel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetVersion" ADD CONSTRAINT "DatasetVersion_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetVersion" ADD CONSTRAINT "DatasetVersion_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "DatasetVersion"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetVersion" ADD CONSTRAINT "DatasetVersion_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetItem" ADD CONSTRAINT "DatasetItem_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "DatasetVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;
