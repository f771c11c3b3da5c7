/**
 * The pieces of the start-up resume: a run stores the service call that
 * started it, a replay may only re-join the run it was stored with (an
 * input that changed since refuses it before anything is written), and
 * runs without a stored request are left to be asked for again.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import type { RunHandle } from '../../src/services/run-manager.js';
import { writeCountingPairs, writeJsonlProbes } from '../helpers/probe-fixtures.js';
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

describe('every kind of run request replays onto its own run', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: 4 });
    await writeCountingPairs(join(t.dir, 'models', 'probes', 'pairs'), 4);
    await writeJsonlProbes(join(t.dir, 'models', 'probes', 'questions'), [
      { id: 'q0', prompt: 'What is 1 + 1?', answer: '2' },
      { id: 'q1', prompt: '<image>How many squares?', image: true, answer: '3', split: 'perception' },
    ]);
    for (const role of ['base', 'sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
    for (const set of ['pairs', 'questions']) expect((await t.execute(`mutation { registerProbeSet(path: "probes/${set}", name: "${set}") { id } }`)).errors).toBeUndefined();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('localization, attention shift, activation patching, characterization and variant score', async () => {
    const { analyses, characterizations, variants } = t.app.services;
    const options = { maxNewTokens: 2, bootstrapSamples: 10 };
    const starts: Record<string, () => Promise<RunHandle>> = {
      'analyses.localization': () => analyses.localization('tiny/sft', 'pairs', 'VISUAL_TOKEN_SWAP', options),
      'analyses.attentionShift': () => analyses.attentionShift('tiny/sft', 'tiny/rl', 'pairs', options),
      'analyses.activationPatching': () => analyses.activationPatching('tiny/sft', 'tiny/rl', 'questions', options),
      'characterizations.start': () => characterizations.start({ base: 'tiny/base', sft: 'tiny/sft', rl: 'tiny/rl', options: { topK: 2 } }),
      'variants.score': async () => variants.score(await variants.resolve({ preset: 'in_early__rl_middle_late', sft: 'tiny/sft', rl: 'tiny/rl' }), 'questions', 'perception', options),
    };
    for (const [call, start] of Object.entries(starts)) {
      const handle = await start();
      await handle.settled;
      const request = (await t.app.services.warehouse.runRequests([handle.runId])).get(handle.runId) as { service: string; method: string };
      expect(`${request.service}.${request.method}`).toBe(call);
      const [outcome] = await resumeInterruptedRuns(t.app.services, [handle.runId], { log: () => undefined });
      expect({ call, outcome: outcome!.outcome, runId: outcome!.handle?.runId }).toEqual({ call, outcome: 'done', runId: handle.runId });
    }
  }, 300_000);
});
