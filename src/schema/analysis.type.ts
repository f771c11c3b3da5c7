import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Section } from './enums.js';

@ObjectType({ description: 'One per-layer number of an analysis, with its bootstrap 95% interval.' })
export class LayerEffect {
  @Field(() => Int, { nullable: true, description: 'unified layer index (LLM layer i is i + 1); null for a baseline without intervention' })
  index!: number | null;

  @Field(() => Section, { nullable: true })
  section!: Section | null;

  @Field(() => String, { description: "task the number is over, or 'all'" })
  task!: string;

  @Field(() => String, { description: 'e.g. change_rate, transfer_rate, accuracy, accuracy_drop, attention_mass_a' })
  metric!: string;

  @Field(() => Float)
  value!: number;

  @Field(() => Float, { nullable: true })
  ciLow!: number | null;

  @Field(() => Float, { nullable: true })
  ciHigh!: number | null;

  @Field(() => Int, { description: 'examples behind the number' })
  n!: number;
}

@ObjectType({ description: 'The outcome of one example under one condition (a layer intervention or a baseline).' })
export class ExampleResult {
  @Field(() => String)
  exampleId!: string;

  @Field(() => String)
  task!: string;

  @Field(() => Int, { nullable: true, description: 'the intervened layer; null for baselines' })
  layer!: number | null;

  @Field(() => String, { description: "e.g. 'clean', 'swapped', 'ablated', 'patched', 'model_a'" })
  condition!: string;

  @Field(() => String, { nullable: true })
  answer!: string | null;

  @Field(() => Boolean, { nullable: true })
  correct!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'answer differs from the unintervened answer' })
  changed!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "answer equals the source's answer" })
  transferred!: boolean | null;

  @Field(() => Float, { nullable: true, description: 'a per-example number: log-probability, attention mass, ...' })
  score!: number | null;
}
