import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Checkpoint } from '../schema/checkpoint.type.js';
import type { RequestContext } from './context.js';
import { translating } from './translate-error.js';
import { textArg, TEXT } from './validate-args.js';

@Resolver(() => Checkpoint)
export class CheckpointResolver {
  @Query(() => [Checkpoint], { description: 'every registered checkpoint, by id' })
  checkpoints(@Ctx() ctx: RequestContext): Promise<Checkpoint[]> {
    return translating(() => ctx.services.warehouse.listCheckpoints());
  }

  @Mutation(() => Checkpoint, {
    description: 'Validates a checkpoint directory inside an allowed model root (FRANKENSCOPE_MODEL_ROOTS) and registers it; an existing name is replaced.',
  })
  registerCheckpoint(
    @Arg('path', () => String, { description: 'directory, absolute or relative to a model root' }) path: string,
    @Arg('name', () => String, { nullable: true, description: "id to register under (default: the path relative to its root, e.g. 'demo/base')" }) name: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Checkpoint> {
    textArg('path', path, { maxLength: TEXT.path });
    textArg('name', name, { maxLength: TEXT.id });
    return translating(() => ctx.services.registry.register(path, name));
  }
}
