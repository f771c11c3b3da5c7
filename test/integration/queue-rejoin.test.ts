/**
 * The pieces of the start-up resume: a run stores the service call that
 * started it, a replay may only re-join the run it was stored with (an
 * input that changed since refuses it before anything is written), and
 * runs without a stored request are left to be asked for again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejoinMismatch } from '../../src/services/run-manager.js';
import { resumeInterruptedRuns } from '../../src/services/units/resume-interrupted.js';
import { createTestApp, registerPlantedTrio, type TestApp } from '../helpers/test-app.js';

const TRIO = { base: 'planted/base', sft: 'planted/sft', rl: 'planted/rl', options: { topK: 3 } };

describe('replaying a stored run request', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await registerPlantedTrio(t);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('a replay that would start another run is refused and writes nothing', async () => {
    const { runs, characterizations, warehouse } = t.app.services;
    await expect(runs.rejoin('3f1c0e2a-0000-4000-8000-000000000000', () => characterizations.start(TRIO))).rejects.toBeInstanceOf(RejoinMismatch);
    expect(await warehouse.listRuns()).toEqual([]);
  });

  it('a client asking at the same moment as a refused replay gets its own run', async () => {
    const { runs, characterizations, warehouse } = t.app.services;
    const request = { ...TRIO, options: { topK: 2 } };
    const replay = runs.rejoin('3f1c0e2a-0000-4000-8000-000000000001', () => characterizations.start(request));
    const client = characterizations.start(request);
    await expect(replay).rejects.toBeInstanceOf(RejoinMismatch);
    const handle = await client;
    await handle.settled;
    const [run] = await warehouse.getRuns([handle.runId]);
    expect(run).toMatchObject({ status: 'DONE', params: { topK: 2 } });
  });

  it('a run stores its request as plain JSON, and replaying it joins the same run (here DONE already)', async () => {
    const { runs, characterizations, warehouse } = t.app.services;
    const handle = await characterizations.start(TRIO);
    await handle.settled;
    const stored = await warehouse.runRequests([handle.runId]);
    expect(stored.get(handle.runId)).toEqual({ service: 'characterizations', method: 'start', args: [TRIO] });

    const [outcome] = await resumeInterruptedRuns(t.app.services, [handle.runId], { log: () => undefined });
    expect(outcome).toMatchObject({ runId: handle.runId, outcome: 'done', handle: { runId: handle.runId, cached: true } });
    expect(await runs.rejoin(handle.runId, () => characterizations.start(TRIO))).toMatchObject({ runId: handle.runId });
  });

  it('a run without a stored request is skipped, with the reason logged', async () => {
    const lines: string[] = [];
    const outcomes = await resumeInterruptedRuns(t.app.services, ['no-such-run'], { log: (line) => lines.push(line) });
    expect(outcomes).toEqual([{ runId: 'no-such-run', outcome: 'skipped', reason: 'no stored request: it resumes when asked for again' }]);
    expect(lines).toEqual(['[frankenscope] interrupted run no-such-run: skipped (no stored request: it resumes when asked for again)']);
  });
});
