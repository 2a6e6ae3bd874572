-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "configSources" JSONB;

-- AlterTable
ALTER TABLE "Sweep" ADD COLUMN     "configSources" JSONB;
