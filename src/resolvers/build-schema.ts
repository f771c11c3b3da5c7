import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CharacterizationResolver } from './characterization.resolver.js';
import { CheckpointResolver } from './checkpoint.resolver.js';
import { RunResolver } from './run.resolver.js';
import { SqlResolver } from './sql.resolver.js';
import { ActivationPatchingFields, AnalysisResolver, AttentionShiftFields, LocalizationFields } from './analysis.resolver.js';
import { ProbeSetResolver } from './probe-set.resolver.js';
import { VariantResolver, VariantScoresResolver } from './variant.resolver.js';
import { NecessityResolver } from './necessity.resolver.js';

/** The public GraphQL schema (its SDL is committed as schema.graphql). */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      CheckpointResolver,
      CharacterizationResolver,
      RunResolver,
      SqlResolver,
      ProbeSetResolver,
      AnalysisResolver,
      LocalizationFields,
      AttentionShiftFields,
      ActivationPatchingFields,
      VariantResolver,
      VariantScoresResolver,
      NecessityResolver,
    ],
    validate: false,
  });
}
