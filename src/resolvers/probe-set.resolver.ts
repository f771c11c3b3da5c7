import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ProbeExample, ProbeSet } from '../schema/probe-set.type.js';
import type { ProbeSetRow } from '../warehouse/index.js';
import type { RequestContext } from './context.js';
import { translating } from './translate-error.js';
import { intArg, textArg, TEXT } from './validate-args.js';
import { PAGE } from './validate-inputs.js';

function toProbeSet(row: ProbeSetRow): ProbeSet & { fingerprint: string } {
  return { id: row.id, name: row.name, format: row.format, path: row.root, fingerprint: row.fingerprint, exampleCount: row.nExamples, tasks: [], splits: [] };
}

@Resolver(() => ProbeSet)
export class ProbeSetResolver {
  @Query(() => [ProbeSet], { description: 'every registered probe set, by id' })
  probeSets(@Ctx() ctx: RequestContext): Promise<ProbeSet[]> {
    return translating(async () => (await ctx.services.warehouse.listProbeSets()).map(toProbeSet));
  }

  @Mutation(() => ProbeSet, {
    description: 'Reads and validates a probe set (the reference pair format, or frankenscope JSONL; see docs/probe-sets.md) inside an allowed root and registers it; a bad file stores nothing.',
  })
  registerProbeSet(
    @Arg('path', () => String, { description: 'folder or .jsonl file, absolute or relative to a model root' }) path: string,
    @Arg('name', () => String, { nullable: true, description: 'id to register under (default: the path relative to its root)' }) name: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ProbeSet> {
    textArg('path', path, { maxLength: TEXT.path });
    textArg('name', name, { maxLength: TEXT.id });
    return translating(async () => toProbeSet(await ctx.services.probeSets.register(path, name)));
  }

  @FieldResolver(() => [String], { description: 'tasks present, sorted' })
  tasks(@Root() set: ProbeSet, @Ctx() ctx: RequestContext): Promise<string[]> {
    return translating(async () => (await ctx.services.warehouse.probeSetFacets(set.fingerprint)).tasks);
  }

  @FieldResolver(() => [String], { description: 'splits present, sorted' })
  splits(@Root() set: ProbeSet, @Ctx() ctx: RequestContext): Promise<string[]> {
    return translating(async () => (await ctx.services.warehouse.probeSetFacets(set.fingerprint)).splits);
  }

  @FieldResolver(() => [ProbeExample], { description: 'examples ordered by id; page with first/after (after = the last id seen)' })
  examples(
    @Root() set: ProbeSet,
    @Arg('task', () => String, { nullable: true }) task: string | null,
    @Arg('split', () => String, { nullable: true }) split: string | null,
    @Arg('first', () => Int, { nullable: true, description: 'default 100, at most 1000' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ProbeExample[]> {
    textArg('task', task, { maxLength: TEXT.name });
    textArg('split', split, { maxLength: TEXT.name });
    textArg('after', after, { maxLength: TEXT.name, allowEmpty: true });
    return translating(async () => {
      const limit = intArg('first', first, PAGE, 100);
      const rows = await ctx.services.warehouse.examples(set.id, { task: task ?? undefined, split: split ?? undefined, first: limit, after: after ?? undefined });
      return rows.map((r) => ({ id: r.exampleId, task: r.task, split: r.split, prompt: r.prompt, images: r.images, answers: r.answers, description: r.description }));
    });
  }
}
