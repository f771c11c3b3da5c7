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

@ObjectType({ description: 'An example of the probe files that a set was registered without (registerProbeSet with skipInvalidExamples).' })
export class SkippedExample {
  @Field(() => ID, { description: 'the example id in the probe file' })
  id!: string;

  @Field(() => String, { description: "'BAD_IMAGE' (an image that does not decode) or 'MISSING_IMAGE'" })
  code!: string;

  @Field(() => String, { description: 'which image field and file (relative to the set) and what is wrong with it' })
  reason!: string;
}

@ObjectType({ description: 'A registered probe set (reference pair format or frankenscope JSONL).' })
export class ProbeSet {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "'reference' (target/source pairs, one folder per task), 'jsonl' (probes.jsonl), 'gsm8k' (GSM8K question/answer JSONL) or 'math500' (MATH-500 JSONL); the same names as the format column in SQL" })
  format!: string;

  @Field(() => String)
  path!: string;

  @Field(() => String, { description: 'sha256 over canonical examples and image bytes (and the ids of skipped examples)' })
  fingerprint!: string;

  @Field(() => Int, { description: 'examples registered (skipped ones not counted)' })
  exampleCount!: number;

  @Field(() => [SkippedExample], { description: 'examples of the files left out at registration because an image could not be used, by id; empty for a complete set' })
  skipped!: SkippedExample[];

  @Field(() => Int, { description: 'how many examples were left out (the length of skipped)' })
  skippedCount!: number;

  @Field(() => [String])
  tasks!: string[];

  @Field(() => [String])
  splits!: string[];
}
