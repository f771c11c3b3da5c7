import { Field, InputType, Int } from 'type-graphql';
import { DEFAULT_MAX_NEW_TOKENS, FORMAT_MAX_NEW_TOKENS, MAX_NEW_TOKENS_LIMIT } from '../services/analysis-options.js';
import { ScoringMode } from './enums.js';

@InputType({ description: 'Options shared by the functional analyses (localization, attention shift, activation patching).' })
export class AnalysisOptions {
  @Field(() => [Int], { nullable: true, description: 'unified LLM layer indices to intervene at (1..L); default all' })
  layers?: number[] | null;

  @Field(() => [String], { nullable: true, description: 'only these tasks of the probe set' })
  tasks?: string[] | null;

  @Field(() => String, { nullable: true, description: 'only this split of the probe set' })
  split?: string | null;

  @Field(() => Int, { nullable: true, description: 'at most this many examples per task (first by id); default all' })
  maxExamples?: number | null;

  @Field(() => ScoringMode, { nullable: true, description: 'default GENERATE' })
  scoring?: ScoringMode | null;

  @Field(() => Int, { nullable: true, description: `greedy generation budget, 1 to ${MAX_NEW_TOKENS_LIMIT} (default by the probe set's format: ${Object.entries(FORMAT_MAX_NEW_TOKENS).map(([f, n]) => `${n} for ${f}`).join(', ')}, else ${DEFAULT_MAX_NEW_TOKENS}; generation stops at end-of-text)` })
  maxNewTokens?: number | null;

  @Field(() => Int, { nullable: true, description: 'examples run together (default 8)' })
  batchSize?: number | null;

  @Field(() => Int, { nullable: true, description: 'bootstrap resamples for the 95% intervals (default 1000)' })
  bootstrapSamples?: number | null;

  @Field(() => Int, { nullable: true, description: 'seed of the bootstrap (default 0)' })
  seed?: number | null;

  @Field(() => Boolean, { nullable: true, description: "wrap each prompt in the model's chat template as one user turn, as the reference scripts' apply_chat_template (default: true when the model ships a chat template, as hub instruct models do; false otherwise, e.g. the demo models)" })
  chat?: boolean | null;
}
