/**
 * The token limit, applied to the request before Apollo sees it. Counting
 * stops at the first token over the limit, so a 1 MB document of 57,000
 * aliases costs a few thousand tokens of lexing, not a parse, a validation
 * and an execution. (Apollo turns an error thrown from its own parsing hook
 * into a 500, hence this place.)
 */
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';

/** The GraphQL document a request carries: `query` of a POST body, or of the URL for GET. */
export function documentOf(method: string, body: unknown, search: URLSearchParams): string | undefined {
  if (method === 'GET') return search.get('query') ?? undefined;
  const query = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { query?: unknown }).query : undefined;
  return typeof query === 'string' ? query : undefined;
}

/** True when `source` has more than `maxTokens` lexical tokens (graphql-armor's counting parser). */
export function exceedsTokenLimit(source: string, maxTokens: number): boolean {
  let over = false;
  const parser = new MaxTokensParserWLexer(source, { n: maxTokens, onReject: [() => (over = true)], propagateOnRejection: true });
  try {
    parser.parseDocument();
  } catch {
    // a syntax error is Apollo's to report, with its position
  }
  return over;
}
