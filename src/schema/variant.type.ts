import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Run } from './run.type.js';

export enum Setting {
  PERCEPTION = 'perception',
  ALIGNMENT = 'alignment',
  REASONING = 'reasoning',
}

export enum SplicePreset {
  IN_EARLY__RL_MIDDLE_LATE = 'in_early__rl_middle_late',
  RL_EARLY__IN_MIDDLE_LATE = 'rl_early__in_middle_late',
  IN_EARLY_MIDDLE__RL_LATE = 'in_early_middle__rl_late',
  RL_EARLY_MIDDLE__IN_LATE = 'rl_early_middle__in_late',
  IN_EARLY__RL_MIDDLE__IN_LATE = 'in_early__rl_middle__in_late',
  RL_EARLY__IN_MIDDLE__RL_LATE = 'rl_early__in_middle__rl_late',
}

registerEnumType(Setting, {
  name: 'Setting',
  description: 'METHOD §3: PERCEPTION image vs black image; ALIGNMENT image vs black image + text description; REASONING the question as posed (its own image if it has one, no description)',
});
registerEnumType(SplicePreset, {
  name: 'SplicePreset',
  description: "the reference's region splices over thirds (layerCuts): e.g. IN_EARLY__RL_MIDDLE_LATE = IN early 1/3 + RL late 2/3; every other tensor from IN",
});

@ObjectType({ description: 'Accuracy of one condition of a setting, with its bootstrap 95% interval.' })
export class ConditionScore {
  @Field(() => String, { description: 'image, black_image, black_image_description or question' })
  condition!: string;

  @Field(() => String, { description: "a task, or 'all'" })
  task!: string;

  @Field(() => Float, { nullable: true })
  accuracy!: number | null;

  @Field(() => Float, { nullable: true })
  ciLow!: number | null;

  @Field(() => Float, { nullable: true })
  ciHigh!: number | null;

  @Field(() => Int)
  n!: number;
}

@ObjectType({ description: 'Transition statistics between condition A and B on the same ids (n_XY: X under A, Y under B).' })
export class ConditionTransition {
  @Field(() => String)
  task!: string;

  @Field(() => String)
  conditionA!: string;

  @Field(() => String)
  conditionB!: string;

  @Field(() => Int)
  n!: number;

  @Field(() => Int)
  nTT!: number;

  @Field(() => Int)
  nTF!: number;

  @Field(() => Int)
  nFT!: number;

  @Field(() => Int)
  nFF!: number;

  @Field(() => Float, { nullable: true, description: 'acc_A - acc_B' })
  delta!: number | null;

  @Field(() => Float, { nullable: true })
  deltaCiLow!: number | null;

  @Field(() => Float, { nullable: true })
  deltaCiHigh!: number | null;

  @Field(() => Float, { description: 'n_FT - n_TF' })
  netGain!: number;

  @Field(() => Float, { nullable: true, description: 'n_TF / (n_TT + n_TF)' })
  sideEffectRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'n_FT / (n_FF + n_FT)' })
  liftRate!: number | null;

  @Field(() => Float, { description: 'McNemar exact two-sided p-value' })
  mcnemarP!: number;
}

/** Root of a variant's scores in one setting; its fields resolve from the warehouse by run id. */
@ObjectType({ description: 'A variant scored in one setting on one probe set.' })
export class VariantScores {
  runId!: string;
  setting!: Setting;
}

@ObjectType({ description: 'A model or a Frankenstein variant (merge recipe), identified by a canonical fingerprint.' })
export class Variant {
  /** the resolved variant the field resolvers score (not part of the schema) */
  resolved!: unknown;

  @Field(() => String, { description: 'checkpoint fingerprint, or sha256 of the canonical recipe over model fingerprints' })
  fingerprint!: string;

  @Field(() => String)
  label!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'the canonical merge recipe (docs/merging.md); null for a plain checkpoint' })
  recipe!: unknown;

  @Field(() => [ID], { description: 'the checkpoints it reads' })
  models!: string[];

  @Field(() => [String], { description: "where a variant from 'recipeYaml' knowingly differs from what mergekit would write, or what of the config was ignored; empty otherwise" })
  notes!: string[];
}

@ObjectType({ description: "One row of the reference's transferability table: a variant in a setting (task 'all')." })
export class TransferRow {
  @Field(() => String)
  variant!: string;

  @Field(() => String)
  fingerprint!: string;

  @Field(() => Setting)
  setting!: Setting;

  @Field(() => ID)
  runId!: string;

  @Field(() => [ConditionScore])
  conditions!: ConditionScore[];

  @Field(() => ConditionTransition, { nullable: true, description: 'null for REASONING (one condition)' })
  transition!: ConditionTransition | null;
}

@ObjectType({ description: 'IN, RL and the six region splices scored in every setting the probe set supports.' })
export class Transferability {
  @Field(() => String, { description: 'DONE when every run is, FAILED if any failed, else RUNNING' })
  status!: string;

  @Field(() => Float, { description: 'mean progress of the runs' })
  progress!: number;

  @Field(() => [Run])
  runs!: Run[];

  @Field(() => [TransferRow], { description: 'rows of the finished runs' })
  rows!: TransferRow[];
}

@ObjectType({ description: 'One row of the necessity table: a model or proxy variant in one setting, against IN and RL.' })
export class NecessityRow {
  @Field(() => String)
  variant!: string;

  @Field(() => String, { description: "'in', 'rl', 'frozen' (a checkpoint trained with frozen layers), 'revert_proxy' (RL with one region reverted to IN) or 'reverse_proxy' (IN with one region from RL)" })
  kind!: string;

  @Field(() => String, { nullable: true, description: 'early, middle or late for the proxies' })
  region!: string | null;

  @Field(() => Setting)
  setting!: Setting;

  @Field(() => String, { description: "the condition scored: 'image' or 'question'" })
  condition!: string;

  @Field(() => Float, { nullable: true })
  accuracy!: number | null;

  @Field(() => Float, { nullable: true })
  ciLow!: number | null;

  @Field(() => Float, { nullable: true })
  ciHigh!: number | null;

  @Field(() => Int)
  n!: number;

  @Field(() => Float, { nullable: true, description: 'accuracy - accuracy of IN' })
  gainOverIn!: number | null;

  @Field(() => Float, { nullable: true, description: "(accuracy - IN) / (RL - IN): the share of RL's gain this variant keeps; null when RL gains nothing. For a revert proxy, 1 minus it is the share lost (a training-free proxy, not a retraining)" })
  shareOfRlGain!: number | null;
}

@ObjectType({ description: 'Is RL\'s change in a region necessary? Frozen-layer checkpoints and training-free revert proxies against IN and RL.' })
export class Necessity {
  @Field(() => String, { description: 'DONE when every run is, FAILED if any failed, else RUNNING' })
  status!: string;

  @Field(() => Float)
  progress!: number;

  @Field(() => [Run])
  runs!: Run[];

  @Field(() => [NecessityRow])
  rows!: NecessityRow[];
}
