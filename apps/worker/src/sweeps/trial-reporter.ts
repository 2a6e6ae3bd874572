import type { Db } from "@wyolo/db";
import { objectiveValue, type EpochEvent, type SweepSettings, type TrainingConfig } from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { studySpecFor, type OptunaBridge, type StudySpec } from "./optuna-bridge.ts";

export type TrialRef = { sweepId: string; jobId: string; trialNumber: number };

type SweepStudy = { objective: string; study: StudySpec };

/** A sweep's settings change only by adding trials, which the study spec does not carry: a minute's cache is safe. */
const CACHE_MS = 60_000;

/**
 * Reports a sweep trial's epochs to its Optuna study (the objective per epoch, step = the 1-based
 * epoch) and says whether the pruner wants it stopped. Never rejects and never fails a training:
 * without the bridge or Postgres the trial just trains on.
 */
export class TrialReporter {
  private readonly sweeps = new Map<string, { until: number; value: SweepStudy }>();
  /** Jobs warned about a missing objective, so a trial that never records it logs it once. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly deps: { db: Db; bridge: Pick<OptunaBridge, "report">; live: LivePublisher; log: Logger },
    private readonly cacheMs = CACHE_MS,
  ) {}

  /** True when the pruner says stop this trial now. */
  async report(trial: TrialRef, epoch: EpochEvent): Promise<boolean> {
    const { log } = this.deps;
    const where = { sweepId: trial.sweepId, jobId: trial.jobId, trial: trial.trialNumber, epoch: epoch.epoch };
    try {
      const sweep = await this.sweep(trial.sweepId);
      if (!sweep) {
        log.warn(where, "sweep trial not reported: its sweep is gone");
        return false;
      }
      const value = objectiveValue(sweep.objective, { metrics: { ...epoch.metrics, fitness: epoch.fitness }, losses: epoch.losses });
      if (value === null) {
        if (!this.warned.has(trial.jobId)) {
          if (this.warned.size > 1000) this.warned.clear();
          this.warned.add(trial.jobId);
          log.warn({ ...where, objective: sweep.objective }, "sweep trial not reported: the epoch has no value for the objective");
        }
        return false;
      }
      const answer = await this.deps.bridge.report(sweep.study, trial.trialNumber, epoch.epoch, value);
      this.deps.live.sweepTrial({ sweepId: trial.sweepId, number: trial.trialNumber, epoch: epoch.epoch, value });
      if (answer.prune) log.info({ ...where, value }, "the sweep's pruner stops this trial");
      // A trial Optuna has already ended (told by the advance step) is not stopped from here.
      return answer.prune && !answer.finished;
    } catch (err) {
      log.warn({ ...where, err: { message: (err as Error).message } }, "sweep trial not reported; it trains on");
      return false;
    }
  }

  private async sweep(sweepId: string): Promise<SweepStudy | null> {
    const cached = this.sweeps.get(sweepId);
    if (cached && cached.until > Date.now()) return cached.value;
    const row = await this.deps.db.sweep.findUnique({ where: { id: sweepId }, select: { settings: true, config: true } });
    if (!row) return null;
    const settings = row.settings as unknown as SweepSettings;
    const config = row.config as unknown as TrainingConfig;
    const value = { objective: settings.objective, study: studySpecFor(sweepId, settings, config.train.epochs) };
    for (const [id, entry] of this.sweeps) if (entry.until <= Date.now()) this.sweeps.delete(id);
    this.sweeps.set(sweepId, { until: Date.now() + this.cacheMs, value });
    return value;
  }
}
