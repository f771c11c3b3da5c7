import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A registered model checkpoint (a Hugging Face style directory).' })
export class Checkpoint {
  @Field(() => ID, { description: "stable id, e.g. 'demo/base'" })
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'absolute directory path' })
  path!: string;

  @Field(() => String, { description: 'sha256 over headers and data of every safetensors file' })
  fingerprint!: string;

  @Field(() => String, { description: "config.json's model_type (or first architecture)" })
  architecture!: string;

  @Field(() => Int, { description: 'language-model decoder layers' })
  numLayers!: number;

  @Field(() => Int, { description: 'vision transformer blocks' })
  numVisionLayers!: number;

  @Field(() => Float, { description: 'number of parameters (Float: may exceed 2^31)' })
  parameterCount!: number;

  @Field(() => String, { description: 'the dtype that holds most parameters (F32, F16, BF16, ...)' })
  dtype!: string;
}
