/** Errors of the merge layer: a malformed recipe, or models that cannot be merged. */

/** A recipe field that is missing, mistyped or inconsistent; `field` names it as a path. */
export class RecipeError extends Error {
  override readonly name = 'RecipeError';
  /** path of the offending field, e.g. `operations[2].layers.to` */
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** What two models disagree on: a config dimension, the tensor set, or one tensor's shape. */
export type MismatchKind = 'config' | 'tensor-set' | 'shape' | 'missing-model';

/** The models of a recipe do not share an architecture; the message names the model, the field and both values. */
export class ModelMismatchError extends Error {
  override readonly name = 'ModelMismatchError';
  readonly kind: MismatchKind;
  /** the model id that disagrees with the base */
  readonly model: string;
  /** config key (`hidden_size`), tensor name, or model id */
  readonly field: string;

  constructor(kind: MismatchKind, model: string, field: string, message: string) {
    super(message);
    this.kind = kind;
    this.model = model;
    this.field = field;
  }
}
