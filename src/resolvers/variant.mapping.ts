/** layer_effects rows of a variant-scoring run to condition scores and transitions. */
import { SETTING_CONDITIONS } from '../engine/analyses/score-variant.js';
import type { ConditionScore, ConditionTransition, Setting } from '../schema/variant.type.js';
import type { LayerEffectRow } from '../warehouse/index.js';
import { transitionStatsWithIntervals } from '../engine/scoring/index.js';

const PREFIX = 'accuracy_';

/** Accuracy per condition, in the setting's condition order, then by task. */
export function toConditionScores(rows: readonly LayerEffectRow[], setting: Setting): ConditionScore[] {
  const order = SETTING_CONDITIONS[setting].map((c) => c.name);
  return rows
    .filter((r) => r.layerIndex === null && r.metric.startsWith(PREFIX))
    .map((r) => ({ condition: r.metric.slice(PREFIX.length), task: r.task, accuracy: r.value, ciLow: r.ciLow, ciHigh: r.ciHigh, n: r.n ?? 0 }))
    .sort((a, b) => order.indexOf(a.condition) - order.indexOf(b.condition) || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
}

export function toTransitions(rows: readonly LayerEffectRow[], setting: Setting): ConditionTransition[] {
  const conditions = SETTING_CONDITIONS[setting];
  if (conditions.length !== 2) return [];
  const byTask = new Map<string, Map<string, LayerEffectRow>>();
  for (const r of rows) {
    if (r.layerIndex !== null || r.metric.startsWith(PREFIX)) continue;
    const m = byTask.get(r.task) ?? new Map<string, LayerEffectRow>();
    m.set(r.metric, r);
    byTask.set(r.task, m);
  }
  return [...byTask].map(([task, m]) => {
    const v = (metric: string) => m.get(metric)?.value ?? null;
    return {
      task,
      conditionA: conditions[0]!.name,
      conditionB: conditions[1]!.name,
      n: m.get('n_tt')?.n ?? 0,
      nTT: v('n_tt') ?? 0,
      nTF: v('n_tf') ?? 0,
      nFT: v('n_ft') ?? 0,
      nFF: v('n_ff') ?? 0,
      delta: v('delta'),
      deltaCiLow: m.get('delta')?.ciLow ?? null,
      deltaCiHigh: m.get('delta')?.ciHigh ?? null,
      netGain: v('net_gain') ?? 0,
      sideEffectRate: v('side_effect_rate'),
      liftRate: v('lift_rate'),
      mcnemarP: v('mcnemar_p') ?? 1,
    };
  });
}

type Outcomes = Map<string, Map<string, { task: string; correct: boolean }>>;

/** Transitions between two variants on the ids both scored, per condition and task ('all' first). */
export function variantTransitions(labelA: string, labelB: string, a: Outcomes, b: Outcomes, resamples: number, seed: number): ConditionTransition[] {
  const out: ConditionTransition[] = [];
  for (const [condition, byIdA] of a) {
    const byIdB = b.get(condition);
    if (!byIdB) continue;
    const ids = [...byIdA.keys()].filter((id) => byIdB.has(id)).sort();
    const groups = new Map<string, string[]>([['all', ids]]);
    for (const id of ids) {
      const task = byIdA.get(id)!.task;
      groups.set(task, [...(groups.get(task) ?? []), id]);
    }
    for (const [task, members] of groups) {
      const t = transitionStatsWithIntervals(members.map((id) => byIdA.get(id)!.correct), members.map((id) => byIdB.get(id)!.correct), { resamples, seed });
      out.push({
        task,
        conditionA: `${labelA} / ${condition}`,
        conditionB: `${labelB} / ${condition}`,
        n: t.n, nTT: t.nTT, nTF: t.nTF, nFT: t.nFT, nFF: t.nFF,
        delta: t.delta, deltaCiLow: t.deltaInterval.low, deltaCiHigh: t.deltaInterval.high,
        netGain: t.netGain, sideEffectRate: t.sideEffectRate, liftRate: t.liftRate, mcnemarP: t.mcnemarP,
      });
    }
  }
  return out;
}
