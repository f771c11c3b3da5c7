/**
 * Issue 17: a distributed run's rows equal the single-process run's rows
 * exactly, on the real analyses. The same GraphQL requests (a zero-ablation
 * localization, a characterization, a recipe splice's variant score and an
 * attention shift, on the shipped demo models) go to a server computing in
 * its own model thread and to a server with a queue and two
 * `frankenscope worker` processes (one thread each); every stored result row
 * of the two warehouses must be equal, and both workers must have done units.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useQueueSandbox } from '../helpers/queue-sandbox.js';
import { resultRows, startServerProcess, type ServerChild } from '../helpers/server-process.js';
import { startWorkerProcess, type Child } from '../helpers/units/processes.js';

const RUN = 'status run { id status error }';
const REQUESTS: Record<string, string> = {
  zeroAblation: `{ r: localization(model: "demo/sft", probeSet: "demo/questions", method: ZERO_ABLATION, options: { split: "reasoning", maxExamples: 12, scoring: TEACHER_FORCED }, waitSeconds: 300) { ${RUN} } }`,
  characterization: `{ r: characterization(base: "demo/base", sft: "demo/sft", rl: "demo/rl", options: { topK: 5 }, waitSeconds: 300) { ${RUN} } }`,
  spliceScore: `{ v: variant(recipe: { preset: IN_EARLY__RL_MIDDLE_LATE, sft: "demo/sft", rl: "demo/rl" }) { r: scores(probeSet: "demo/questions", setting: PERCEPTION, options: { maxExamples: 4, scoring: TEACHER_FORCED }, waitSeconds: 300) { ${RUN} } } }`,
  attentionShift: `{ r: attentionShift(a: "demo/sft", b: "demo/rl", probeSet: "demo/pairs", options: { maxExamples: 4 }, waitSeconds: 300) { ${RUN} } }`,
};

interface Answer {
  status: string;
  run: { id: string; status: string; error: string | null };
}

/** Asks every request at once and waits until each run is DONE. */
async function askAll(server: ServerChild): Promise<Record<string, Answer>> {
  const answers = await Promise.all(
    Object.entries(REQUESTS).map(async ([name, document]) => {
      const data = await server.query<{ r?: Answer; v?: { r: Answer } }>(document);
      return [name, data.r ?? data.v!.r] as const;
    }),
  );
  return Object.fromEntries(answers);
}

/** Run ids for which a worker's log has a 'done' line, with how many units. */
function unitsDoneBy(worker: Child): Map<string, number> {
  const done = new Map<string, number>();
  for (const match of worker.output().matchAll(/unit \d+ \(.*?\) of run (\S+): done in/g)) done.set(match[1]!, (done.get(match[1]!) ?? 0) + 1);
  return done;
}

describe('real analyses through two queue workers store exactly the rows of one process', () => {
  const sandbox = useQueueSandbox('frankenscope-real-queue');

  it('zero ablation, characterization, splice score and attention shift: equal rows, units on both workers', async () => {
    const workers = await Promise.all(['worker-a', 'worker-b'].map((name) => startWorkerProcess(sandbox.redis.url, { name })));
    sandbox.adopt(...workers);
    const queued = await startServerProcess({ warehouse: join(sandbox.dir, 'queued.duckdb'), redisUrl: sandbox.redis.url });
    sandbox.adopt(queued);
    const distributed = await askAll(queued);
    const local = await startServerProcess({ warehouse: join(sandbox.dir, 'local.duckdb') });
    sandbox.adopt(local);
    const inProcess = await askAll(local);

    for (const answers of [distributed, inProcess]) {
      for (const [name, answer] of Object.entries(answers)) expect({ name, ...answer.run }).toMatchObject({ name, status: 'DONE', error: null });
    }
    const distributedRows = await resultRows(queued);
    const inProcessRows = await resultRows(local);
    // every kind left rows in some table, so the comparison below compares something for each
    const kinds = new Set(Object.values(inProcessRows).flatMap((rows) => (rows as unknown[][]).map((row) => row[0])));
    expect([...kinds].sort()).toEqual(['attention_shift', 'characterization', 'localization.zero_ablation', 'variant_score.perception']);
    expect(distributedRows).toEqual(inProcessRows);

    const runIds = new Set(Object.values(distributed).map((a) => a.run.id));
    for (const worker of workers) {
      const did = [...unitsDoneBy(worker)].filter(([runId]) => runIds.has(runId));
      expect(did.length, `${worker.output()}`).toBeGreaterThan(0);
    }
    // each DONE message credits the workers with the units their logs say they did; in-process runs credit nobody
    for (const answer of Object.values(distributed)) {
      const { run } = await queued.query<{ run: { message: string } }>(`{ run(id: "${answer.run.id}") { message } }`);
      const credited = [...run.message.matchAll(/(worker-[ab]) \((\d+)\)/g)].map((m) => [m[1], Number(m[2])]);
      const logged = workers.map((w, i) => [['worker-a', 'worker-b'][i], unitsDoneBy(w).get(answer.run.id) ?? 0]).filter(([, n]) => n !== 0);
      expect(credited, run.message).toEqual(logged);
      expect(run.message).toMatch(/^done: .*; \d+ units? by /);
    }
    for (const answer of Object.values(inProcess)) {
      const { run } = await local.query<{ run: { message: string } }>(`{ run(id: "${answer.run.id}") { message } }`);
      expect(run.message).toMatch(/^done: /);
      expect(run.message).not.toContain(' by ');
    }
    // nothing of the in-process server's runs went to the workers
    const localIds = new Set(Object.values(inProcess).map((a) => a.run.id));
    for (const worker of workers) expect([...unitsDoneBy(worker).keys()].filter((id) => localIds.has(id))).toEqual([]);
  }, 600_000);
});
