import { Field, InputType, Int } from 'type-graphql';

@InputType({ description: 'Options of the update characterization.' })
export class CharacterizationOptions {
  @Field(() => String, { nullable: true, description: "keep only tensors whose name contains this text, e.g. 'down_proj'" })
  weightFilter?: string | null;

  @Field(() => Int, { nullable: true, description: 'singular values kept per tensor, and k of log volume and subspace overlap (default 50)' })
  topK?: number | null;

  @Field(() => [Int], { nullable: true, description: 'region cuts over 0-based LLM layers: [8, 20] means 0-7 | 8-19 | 20-N (default floor(N/3), floor(2N/3))' })
  layerCuts?: number[] | null;
}
