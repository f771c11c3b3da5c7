/**
 * What one GraphQL operation may cost the server, estimated from its
 * document before anything runs (graphql-query-complexity with our weights).
 *
 * A plain field costs 1 plus its selection. The fields that start or read a
 * computation carry a weight that says how much more they cost than a plain
 * field: a `sql` statement can scan the whole warehouse for seconds, an
 * analysis or characterization (even a cached one) reads and maps thousands
 * of rows, a registration hashes every weight file. Paged lists cost their
 * selection once per 200 rows asked for, so a 1000-row page of spectra costs
 * five times a 200-row one.
 */
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { DocumentNode, GraphQLSchema } from 'graphql';

/** Extra cost of a field over a plain one, by `Type.field`. */
export const FIELD_WEIGHTS: Readonly<Record<string, number>> = {
  // a full-table statement runs for seconds and holds a warehouse connection
  'Query.sql': 400,
  // each starts or joins a run and maps its stored rows (thousands for a trio)
  'Query.characterization': 100,
  'Query.localization': 100,
  'Query.attentionShift': 100,
  'Query.activationPatching': 100,
  'Variant.scores': 100,
  'Variant.transitions': 100,
  // eight variants in every setting: many runs at once
  'Query.transferability': 150,
  'Query.necessity': 150,
  // canonicalises a recipe against model fingerprints
  'Query.variant': 5,
  // hashes every safetensors file / reads every probe
  'Mutation.registerCheckpoint': 100,
  'Mutation.registerProbeSet': 50,
  // writes a whole checkpoint to disk
  'Mutation.exportVariant': 400,
  // paged lists: this weight plus their selection per 200 rows (PAGED below)
  'Characterization.tensors': 10,
  'Localization.examples': 10,
  'AttentionShift.examples': 10,
  'ActivationPatching.examples': 10,
  'ProbeSet.examples': 10,
  'Query.runs': 5,
};

/** Paged list fields: the rows a request gets when it gives no `first`, and the most it can ask for. */
const PAGED: Readonly<Record<string, { defaultRows: number; maxRows: number }>> = {
  'Characterization.tensors': { defaultRows: 1000, maxRows: 1000 },
  'Localization.examples': { defaultRows: 100, maxRows: 1000 },
  'AttentionShift.examples': { defaultRows: 100, maxRows: 1000 },
  'ActivationPatching.examples': { defaultRows: 100, maxRows: 1000 },
  'ProbeSet.examples': { defaultRows: 100, maxRows: 1000 },
  'Query.runs': { defaultRows: 50, maxRows: 1000 },
};

const ROWS_PER_UNIT = 200;

function pageUnits(key: string, first: unknown): number {
  const page = PAGED[key];
  if (!page) return 1;
  // an out-of-range `first` is refused by the resolver; until then it is priced as the largest page
  const rows = typeof first === 'number' && Number.isInteger(first) && first >= 1 ? Math.min(first, page.maxRows) : first == null ? page.defaultRows : page.maxRows;
  return Math.ceil(rows / ROWS_PER_UNIT);
}

export const weightedEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const key = `${type.name}.${field.name}`;
  return 1 + (FIELD_WEIGHTS[key] ?? 0) + childComplexity * pageUnits(key, args.first);
};

/**
 * The estimated cost of the operation `operationName` (or the document's
 * only one). Throws a GraphQLError when the variables do not fit the
 * operation's declarations.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables?: Record<string, unknown>, operationName?: string | null): number {
  return getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [weightedEstimator] });
}
