/** Entry point GraphQL Code Generator loads: the schema built from the type-graphql classes. */
import { buildAppSchema } from '../src/resolvers/build-schema.js';

// a promise, not top-level await: codegen loads this file as CommonJS
export const schema = buildAppSchema();
export default schema;
