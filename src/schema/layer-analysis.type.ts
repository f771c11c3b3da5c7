import { ObjectType } from 'type-graphql';

/** Roots of the per-layer analyses; their fields resolve from the warehouse by run id. */
@ObjectType({ description: 'Functional localization of a model on a probe set (METHOD 1a/1b).' })
export class Localization {
  runId!: string;
}

@ObjectType({ description: 'Attention mass from text to visual tokens per layer, for models A and B on the same inputs (METHOD 1c).' })
export class AttentionShift {
  runId!: string;
}

@ObjectType({ description: "Cross-model activation patching: target's residual stream after layer L replaced by the source's (METHOD 1c)." })
export class ActivationPatching {
  runId!: string;
}
