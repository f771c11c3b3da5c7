/** The variant builder's recipe (docs/merging.md): one operation over a range of decoder layers. */

export interface BuilderFields {
  /** checkpoint id every other tensor comes from */
  base: string;
  donor: string;
  /** splice, interpolate or slerp */
  method: string;
  /** decoder layers from <= l < to, 0-based */
  from: number;
  to: number;
  /** layer, attention or mlp */
  component: string;
  /** interpolation weight of the donor (slerp's t) */
  alpha: number;
  label?: string;
}

export const METHODS: readonly string[] = ['splice', 'interpolate', 'slerp'];

/** The custom recipe the builder's fields describe (docs/merging.md). */
export function builderRecipe(fields: BuilderFields): Record<string, unknown> {
  if (!METHODS.includes(fields.method)) throw new RangeError(`'method' must be one of ${METHODS.join(', ')}, got '${fields.method}'`);
  if (!(Number.isInteger(fields.from) && Number.isInteger(fields.to) && fields.from >= 0 && fields.from < fields.to)) {
    throw new RangeError(`the layer range must be integers with 0 <= from < to, got from ${fields.from}, to ${fields.to}`);
  }
  const selection = { layers: { from: fields.from, to: fields.to }, component: fields.component };
  const operation =
    fields.method === 'interpolate'
      ? { op: 'interpolate', donor: fields.donor, alpha: fields.alpha, ...selection }
      : fields.method === 'slerp'
        ? { op: 'slerp', model: fields.donor, t: fields.alpha, ...selection }
        : { op: 'splice', model: fields.donor, ...selection };
  const part = fields.component === 'layer' ? '' : `${fields.component} of `;
  const label = fields.label || `${fields.method} ${part}${fields.donor} layers ${fields.from}-${fields.to - 1}${fields.method === 'splice' ? '' : ` α=${fields.alpha}`} into ${fields.base}`;
  return { base: fields.base, donors: [fields.donor], operations: [operation], label };
}

