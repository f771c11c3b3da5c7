import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { SqlResult } from '../schema/sql.type.js';
import type { RequestContext } from './context.js';
import { translating } from './translate-error.js';
import { DOOR_LIMITS } from '../warehouse/SqlDoor.js';
import { intArg, textArg, TEXT } from './validate-args.js';

@Resolver()
export class SqlResolver {
  @Query(() => SqlResult, {
    description: 'The analysts\' door: one read-only statement (SELECT/WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN), no file access, row- and time-limited. See docs/warehouse.md.',
  })
  sql(
    @Arg('query', () => String) query: string,
    @Arg('maxRows', () => Int, { nullable: true, description: 'default 1000, at most 10000' }) maxRows: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SqlResult> {
    textArg('query', query, { maxLength: TEXT.sql });
    intArg('maxRows', maxRows, { min: 1, max: DOOR_LIMITS.maxRows });
    return translating(() => ctx.services.warehouse.readOnlySql(query, { maxRows: maxRows ?? undefined }));
  }
}
