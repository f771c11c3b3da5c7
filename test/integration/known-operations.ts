/**
 * Every GraphQL operation this project itself sends: the dashboard's
 * (web/src/generated), the typed client's (client/generated), the CLI's
 * `sql` through a server, and the README's examples. The operation limits
 * must let each of them through with a wide margin.
 */
import { readFileSync } from 'node:fs';
import { print, type DocumentNode, type GraphQLSchema, type TypeNode, isEnumType, isInputObjectType, isScalarType } from 'graphql';
import { Kind, parse } from 'graphql';
import * as web from '../../web/src/generated/graphql.js';
import * as client from '../../client/generated/graphql.js';

export interface KnownOperation {
  name: string;
  source: string;
}

function isDocumentNode(value: unknown): value is DocumentNode {
  return typeof value === 'object' && value !== null && (value as DocumentNode).kind === Kind.DOCUMENT;
}

const hasOperation = (source: string) => parse(source).definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION);

/** The README's ```graphql blocks and the queries of its curl examples. */
export function readmeOperations(readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')): KnownOperation[] {
  const found: KnownOperation[] = [];
  for (const [i, m] of [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].entries()) found.push({ name: `README graphql block ${i + 1}`, source: m[1]! });
  for (const [i, m] of [...readme.matchAll(/-d '(\{[\s\S]*?\})'/g)].entries()) {
    const body = JSON.parse(m[1]!) as { query?: string };
    if (body.query) found.push({ name: `README curl ${i + 1}`, source: body.query });
  }
  return found;
}

/** The query `frankenscope sql` sends when a server holds the warehouse (src/cli/sql.command.ts). */
function cliSqlOperation(): KnownOperation {
  const text = readFileSync(new URL('../../src/cli/sql.command.ts', import.meta.url), 'utf8');
  const m = /query: '(query[^']*)'/.exec(text);
  if (!m) throw new Error('the query of src/cli/sql.command.ts was not found');
  return { name: 'CLI sql', source: m[1]! };
}

export function knownOperations(): KnownOperation[] {
  const ops: KnownOperation[] = [];
  for (const [name, value] of Object.entries(web)) {
    if (value instanceof String && hasOperation(value.toString())) ops.push({ name: `dashboard ${name}`, source: value.toString() });
  }
  for (const [name, value] of Object.entries(client)) {
    if (isDocumentNode(value) && value.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION)) ops.push({ name: `client ${name}`, source: print(value) });
  }
  return [...ops, cliSqlOperation(), ...readmeOperations()];
}

/** A value of the declared type, for the operation's required variables (optional ones stay unset: limits price their defaults). */
function placeholder(schema: GraphQLSchema, type: TypeNode): unknown {
  if (type.kind === Kind.NON_NULL_TYPE) return placeholder(schema, type.type);
  if (type.kind === Kind.LIST_TYPE) return [placeholder(schema, type.type)];
  const named = schema.getType(type.name.value);
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (isInputObjectType(named)) return {};
  if (isScalarType(named)) return ({ Int: 1, Float: 1, Boolean: false } as Record<string, unknown>)[named.name] ?? 'x';
  throw new Error(`no placeholder for ${type.name.value}`);
}

export function requiredVariables(schema: GraphQLSchema, source: string): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const def of parse(source).definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of def.variableDefinitions ?? []) {
      if (v.type.kind === Kind.NON_NULL_TYPE && !v.defaultValue) variables[v.variable.name.value] = placeholder(schema, v.type);
    }
  }
  return variables;
}
