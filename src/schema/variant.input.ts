import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, InputType, Int } from 'type-graphql';
import { SplicePreset } from './variant.type.js';

@InputType({ description: "Exactly one of: 'model' (a registered checkpoint), 'preset' with 'sft' and 'rl' (a region splice), 'recipe' (a merge recipe, docs/merging.md) or 'recipeYaml' (a mergekit config)." })
export class VariantRecipeInput {
  @Field(() => ID, { nullable: true })
  model?: string | null;

  @Field(() => SplicePreset, { nullable: true })
  preset?: SplicePreset | null;

  @Field(() => ID, { nullable: true, description: 'IN (cold start) model of a preset' })
  sft?: string | null;

  @Field(() => ID, { nullable: true, description: 'RL model of a preset' })
  rl?: string | null;

  @Field(() => [Int], { nullable: true, description: 'region cuts of a preset over 0-based LLM layers (default floor(N/3), floor(2N/3))' })
  layerCuts?: number[] | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'a full merge recipe: { base, donors, operations, seed?, label? }' })
  recipe?: unknown;

  @Field(() => String, { nullable: true, description: "a mergekit YAML config (merge_method, models or slices, base_model, parameters, dtype) whose model names are registered checkpoint ids (docs/merging.md, 'mergekit configs')" })
  recipeYaml?: string | null;
}
