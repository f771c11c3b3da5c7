import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, ObjectType } from 'type-graphql';
import { RunStatus } from './enums.js';

@ObjectType({ description: 'One analysis run, its cache key and its lifecycle.' })
export class Run {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "analysis kind, e.g. 'characterization'" })
  kind!: string;

  @Field(() => RunStatus)
  status!: RunStatus;

  @Field(() => Float, { description: '0..1' })
  progress!: number;

  @Field(() => String, { nullable: true, description: 'what the run is doing now' })
  message!: string | null;

  @Field(() => GraphQLJSON, { description: 'canonical parameters (with defaults filled in)' })
  params!: unknown;

  @Field(() => GraphQLJSON, { description: 'input checkpoint ids and fingerprints' })
  inputs!: unknown;

  @Field(() => String, { description: 'hash(kind, params, input fingerprints, engine version)' })
  cacheKey!: string;

  @Field(() => String)
  engineVersion!: string;

  @Field(() => String, { nullable: true, description: 'ISO time' })
  startedAt!: string | null;

  @Field(() => String, { nullable: true, description: 'ISO time' })
  finishedAt!: string | null;

  @Field(() => String, { nullable: true, description: 'why the run failed' })
  error!: string | null;
}
