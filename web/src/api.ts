/** The dashboard's only way to the server: GraphQL over fetch POST /graphql, with codegen-typed documents. */
import { takeAccessToken } from './access-token.js';
import type { TypedDocumentString } from './generated/graphql.js';

/** A GraphQL or HTTP error, with the server's `extensions.code` when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export const GRAPHQL_PATH = '/graphql';

// taken when this module loads, before the dashboard first writes its state into the address
const accessToken = takeAccessToken();

export async function request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, signal?: AbortSignal): Promise<TResult> {
  const response = await fetch(GRAPHQL_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify({ query: document.toString(), variables }),
    signal,
  });
  let body: GraphQLResponse<TResult>;
  try {
    body = (await response.json()) as GraphQLResponse<TResult>;
  } catch {
    throw new ApiError(`the server answered HTTP ${response.status} without a GraphQL body`);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => e.message).join('; '), body.errors[0]!.extensions?.code);
  }
  if (!response.ok || !body.data) throw new ApiError(`the server answered HTTP ${response.status} without data`);
  return body.data;
}
