/** Entry point GraphQL Code Generator loads: the schema built from the type-graphql classes. */
import { buildAppSchema } from '../src/resolvers/build-schema.js';

export const schema = await buildAppSchema();
export default schema;
