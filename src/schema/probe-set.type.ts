import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One probe: a question (with target/source images for swap pairs) and its gold answer(s).' })
export class ProbeExample {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  task!: string;

  @Field(() => String, { nullable: true })
  split!: string | null;

  @Field(() => String, { description: 'verbatim, possibly with an <image> marker' })
  prompt!: string;

  @Field(() => GraphQLJSON, { description: 'image paths relative to the probe set: { image } or { target, source }' })
  images!: unknown;

  @Field(() => GraphQLJSON, { description: 'gold answers: { answer } or { target, source }' })
  answers!: unknown;

  @Field(() => String, { nullable: true, description: 'text description of the image (alignment setting)' })
  description!: string | null;
}

@ObjectType({ description: 'A registered probe set (reference pair format or frankenscope JSONL).' })
export class ProbeSet {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "'reference' (target/source pairs, one folder per task) or 'jsonl' (probes.jsonl); the same names as the format column in SQL" })
  format!: string;

  @Field(() => String)
  path!: string;

  @Field(() => String, { description: 'sha256 over canonical examples and image bytes' })
  fingerprint!: string;

  @Field(() => Int)
  exampleCount!: number;

  @Field(() => [String])
  tasks!: string[];

  @Field(() => [String])
  splits!: string[];
}
