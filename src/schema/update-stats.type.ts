import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Metrics of one update (dSFT = SFT - Base, or dRL = RL - SFT); for a layer or group, means over its tensors.' })
export class UpdateStats {
  @Field(() => Float, { description: '||d||_F' })
  froNorm!: number;

  @Field(() => Float, { description: '||d||_F / (||W_IN||_F + 1e-8)' })
  relativeNorm!: number;

  @Field(() => Float, { description: 's_1' })
  spectralNorm!: number;

  @Field(() => Float, { description: 'sum of singular values' })
  nuclearNorm!: number;

  @Field(() => Float, { description: '||d||_F^2 / (s_1^2 + 1e-12)' })
  stableRank!: number;

  @Field(() => Float, { description: 'exp(entropy of s_i / sum s) over s_i > 1e-12; 0 for a zero update' })
  effectiveRank!: number;

  @Field(() => Float, { description: 's_1 / (s_min + 1e-12)' })
  conditionNumber!: number;

  @Field(() => Float, { description: 'sum of ln(s_i + 1e-12) over the top k' })
  logVolume!: number;

  @Field(() => [Float], { description: 'top-k singular values, descending (element-wise mean for a layer or group)' })
  singularValues!: number[];

  @Field(() => Float, { nullable: true, description: 'sum of fro norms over the tensors (layers and groups only)' })
  froNormSum!: number | null;
}
