/**
 * The embedded executor: units run one after another in this process's
 * model worker thread.
 */
import type { ModelWorker } from '../../engine/runtime/model-worker.js';
import type { UnitExecutor, UnitRunHooks } from './unit-executor.js';
import type { WorkUnit } from '../../engine/units/work-unit.js';

export class InProcessExecutor implements UnitExecutor {
  readonly name = 'in-process';

  constructor(private readonly worker: () => Promise<ModelWorker>) {}

  async run(_runId: string, units: WorkUnit[], hooks: UnitRunHooks): Promise<void> {
    for (const unit of units) {
      hooks.signal.throwIfAborted();
      const worker = await this.worker();
      const result = await worker.run(unit.module, unit.exportName, unit.input, {
        signal: hooks.signal,
        onProgress: (p) => {
          const { done, total, message } = p as { done: number; total: number; message?: string };
          hooks.onUnitProgress(unit, total ? done / total : 0, message);
        },
      });
      await hooks.onUnitDone(unit, result, this.name);
    }
  }
}
