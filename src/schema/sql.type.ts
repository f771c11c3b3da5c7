import { GraphQLJSON } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';

@ObjectType()
export class SqlColumn {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'DuckDB type name' })
  type!: string;
}

@ObjectType({ description: 'Result of a read-only warehouse query.' })
export class SqlResult {
  @Field(() => [SqlColumn])
  columns!: SqlColumn[];

  @Field(() => GraphQLJSON, { description: 'rows as arrays of JSON values, in column order' })
  rows!: unknown[][];

  @Field(() => Boolean, { description: 'true when more rows existed than maxRows' })
  truncated!: boolean;
}
