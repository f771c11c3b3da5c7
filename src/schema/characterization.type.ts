import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Component, Region, Section } from './enums.js';
import { UpdateStats } from './update-stats.type.js';

@ObjectType({ description: 'Per-layer update metrics on the unified index (vision negative, projector 0, LLM positive).' })
export class LayerUpdate {
  @Field(() => Int)
  index!: number;

  @Field(() => Section)
  section!: Section;

  @Field(() => Region, { nullable: true, description: 'null outside the LLM' })
  region!: Region | null;

  @Field(() => Int, { description: 'tensors averaged' })
  tensorCount!: number;

  @Field(() => UpdateStats)
  sft!: UpdateStats;

  @Field(() => UpdateStats)
  rl!: UpdateStats;

  @Field(() => Float, { nullable: true, description: 'mean cosine(dSFT, dRL) over tensors where defined' })
  cosine!: number | null;

  @Field(() => Float, { nullable: true, description: 'mean subspace overlap over tensors where defined' })
  subspaceOverlap!: number | null;
}

@ObjectType({ description: 'Update metrics of one parameter tensor.' })
export class TensorUpdate {
  @Field(() => String)
  name!: string;

  @Field(() => Int, { nullable: true, description: 'unified layer index; null for tensors outside blocks' })
  index!: number | null;

  @Field(() => Section)
  section!: Section;

  @Field(() => Component)
  component!: Component;

  @Field(() => Region, { nullable: true })
  region!: Region | null;

  @Field(() => [Int])
  shape!: number[];

  @Field(() => UpdateStats)
  sft!: UpdateStats;

  @Field(() => UpdateStats)
  rl!: UpdateStats;

  @Field(() => Float, { nullable: true, description: 'cosine(dSFT, dRL); null if either is zero' })
  cosine!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: '||U_sft^T U_rl||_F^2 / min(k_sft, k_rl) over the top-k left singular vectors (numerical rank caps k); null if either update is zero',
  })
  subspaceOverlap!: number | null;
}

@ObjectType({ description: 'Update metrics aggregated over a section, component or region.' })
export class GroupUpdate {
  @Field(() => String, { description: "the group, e.g. 'llm', 'mlp', 'late'" })
  key!: string;

  @Field(() => Int)
  tensorCount!: number;

  @Field(() => UpdateStats)
  sft!: UpdateStats;

  @Field(() => UpdateStats)
  rl!: UpdateStats;

  @Field(() => Float, { nullable: true })
  cosine!: number | null;

  @Field(() => Float, { nullable: true })
  subspaceOverlap!: number | null;
}

/** Root of a characterization answer; the fields resolve from the warehouse by run id. */
@ObjectType({ description: 'The update characterization of a Base / SFT (IN) / RL trio.' })
export class Characterization {
  runId!: string;
}
