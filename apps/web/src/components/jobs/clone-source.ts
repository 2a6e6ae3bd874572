import { Document, isMap, parseDocument } from "yaml";

/**
 * A config to start a new job from, as YAML (comments of a submitted YAML kept): without
 * `task_id`, so the clone gets a name of its own, and without a trial's own sweep marks.
 */
export function cloneSource(job: { configSource: string | null; config: unknown; sweepId?: string | null }): string {
  const source = job.configSource ? parseDocument(job.configSource) : new Document(job.config);
  if (source.errors.length) return job.configSource ?? "";
  source.delete("task_id");
  if (job.sweepId) {
    source.deleteIn(["metadata", "sweep_id"]);
    source.deleteIn(["metadata", "trial"]);
    const metadata = source.get("metadata");
    if (isMap(metadata) && metadata.items.length === 0) source.delete("metadata");
  }
  return source.toString();
}
