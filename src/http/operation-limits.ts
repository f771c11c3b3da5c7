/**
 * Per-operation limits inside Apollo: depth and aliases (graphql-armor
 * validation rules) and cost (operation-cost.ts, checked once the operation
 * and its variables are known, before anything resolves). The token limit
 * comes earlier, in the HTTP layer (token-limit.ts). Every refusal is HTTP
 * 400 with its own `extensions.code`.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, specifiedRules, validate, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { OperationLimits } from '../config.js';
import { operationCost } from './operation-cost.js';

export type LimitCode = 'QUERY_TOO_DEEP' | 'TOO_MANY_ALIASES' | 'QUERY_TOO_COSTLY';

/** A refused operation; its code survives Apollo's wrapping of validation errors (see restoreLimitCode). */
export class OperationLimitError extends GraphQLError {
  constructor(
    message: string,
    readonly code: LimitCode,
    readonly limit: number,
  ) {
    super(message, { extensions: { code, limit, http: { status: 400 } } });
    this.name = 'OperationLimitError';
  }
}

/** graphql-armor prefixes every refusal with "Syntax Error: ", which these are not. */
const armorMessage = (error: GraphQLError) => error.message.replace(/^Syntax Error: /, '');

function costLimitPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          let cost: number;
          try {
            cost = operationCost(schema, document, request.variables, operationName);
          } catch {
            // variables that do not fit the operation: execution refuses them before any resolver runs
            return;
          }
          if (cost > maxCost) {
            throw new OperationLimitError(
              `the operation's estimated cost ${cost} exceeds the limit of ${maxCost} (FRANKENSCOPE_MAX_COST); sql, characterization, analyses and large pages are the expensive fields: split them over several requests`,
              'QUERY_TOO_COSTLY',
              maxCost,
            );
          }
        },
      };
    },
  };
}

/** Called with each operation's depth and alias count as the rules measure them. */
interface Measured {
  depth?(n: number): void;
  aliases?(n: number): void;
}

function limitRules(limits: Pick<OperationLimits, 'maxDepth' | 'maxAliases'>, measured: Measured = {}): ValidationRule[] {
  const reject = (code: LimitCode, limit: number) => [
    (ctx: { reportError(e: GraphQLError): void } | null, error: GraphQLError) => ctx?.reportError(new OperationLimitError(armorMessage(error), code, limit)),
  ];
  const accept = (report: ((n: number) => void) | undefined) => (report ? [(_: unknown, details: { n: number }) => report(details.n)] : []);
  const armor = new ApolloArmor({
    maxDepth: {
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: reject('QUERY_TOO_DEEP', limits.maxDepth),
      onAccept: accept(measured.depth),
    },
    // every alias counts, __typename included: 57,000 of them are as slow to answer as any other field
    maxAliases: {
      n: limits.maxAliases,
      allowList: [],
      propagateOnRejection: false,
      onReject: reject('TOO_MANY_ALIASES', limits.maxAliases),
      onAccept: accept(measured.aliases),
    },
    // tokens and cost have their own plugins above; field suggestions are Apollo's to hide
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxDirectives: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  return armor.protect().validationRules as ValidationRule[];
}

/** What ApolloServer's constructor takes to enforce `limits`. */
export function operationLimits(schema: GraphQLSchema, limits: OperationLimits): { plugins: ApolloServerPlugin<BaseContext>[]; validationRules: ValidationRule[] } {
  return { plugins: [costLimitPlugin(schema, limits.maxCost)], validationRules: limitRules(limits) };
}

/**
 * Apollo reports every validation error as GRAPHQL_VALIDATION_FAILED; a
 * refusal by a limit keeps its own code so a client can tell "too big"
 * from "wrong". For ApolloServer's `formatError`.
 */
export function restoreLimitCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof OperationLimitError ? error : error instanceof GraphQLError ? error.originalError : undefined;
  if (!(original instanceof OperationLimitError)) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: original.code, limit: original.limit } };
}

export interface OperationSize {
  tokens: number;
  depth: number;
  aliases: number;
  cost: number;
}

/**
 * What the limits see in `source`, measured the way they measure it (for
 * tests and for choosing limits). Throws on a document the schema refuses.
 */
export function measureOperation(schema: GraphQLSchema, source: string, variables?: Record<string, unknown>, operationName?: string): OperationSize {
  const parser = new MaxTokensParserWLexer(source, { n: Number.MAX_SAFE_INTEGER });
  const document = parser.parseDocument();
  const size: OperationSize = { tokens: parser.tokenCount, depth: 0, aliases: 0, cost: 0 };
  const unlimited = { maxDepth: Number.MAX_SAFE_INTEGER, maxAliases: Number.MAX_SAFE_INTEGER };
  const rules = limitRules(unlimited, { depth: (n) => (size.depth = Math.max(size.depth, n)), aliases: (n) => (size.aliases = Math.max(size.aliases, n)) });
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  if (errors.length > 0) throw errors[0];
  size.cost = operationCost(schema, document, variables, operationName);
  return size;
}
