/**
 * Shaded regions behind per-layer charts on the unified index: vision blocks
 * (negative), the projector (0) and the early / middle / late thirds of the
 * LLM layers (positive; LLM layer j, 0-based, has index j + 1).
 */

export type RegionName = 'vision' | 'projector' | 'early' | 'middle' | 'late';

export interface Shade {
  region: RegionName;
  /** unified index where the band starts (half a layer before its first layer) */
  start: number;
  end: number;
}

export const REGION_COLORS: Record<RegionName, string> = {
  vision: '#d8e8f5',
  projector: '#efe0f5',
  early: '#e6f2dc',
  middle: '#fbf0d0',
  late: '#f8dcd6',
};

/**
 * Cuts of the LLM layers into thirds: [a, b] means 0-based layers 0..a-1 are
 * early, a..b-1 middle, b.. late; METHOD.md's default is floor(N/3), floor(2N/3).
 */
export function defaultCuts(numLayers: number): [number, number] {
  return [Math.floor(numLayers / 3), Math.floor((2 * numLayers) / 3)];
}

/** Bands for the LLM layers alone (indices 1..numLayers), e.g. behind a localization chart. */
export function llmShades(numLayers: number, cuts: readonly [number, number] = defaultCuts(numLayers)): Shade[] {
  const [a, b] = cuts;
  const bands: Shade[] = [
    { region: 'early', start: 0.5, end: a + 0.5 },
    { region: 'middle', start: a + 0.5, end: b + 0.5 },
    { region: 'late', start: b + 0.5, end: numLayers + 0.5 },
  ];
  return bands.filter((s) => s.end > s.start);
}

/** Bands for the layers of a characterization, from each layer's section and region. */
export function unifiedShades(layers: readonly { index: number; section: string; region: string | null }[]): Shade[] {
  const ranges = new Map<RegionName, { min: number; max: number }>();
  for (const layer of layers) {
    const section = layer.section.toLowerCase();
    const name: RegionName | null = section === 'vision' ? 'vision' : section === 'projector' ? 'projector' : section === 'llm' && layer.region ? (layer.region.toLowerCase() as RegionName) : null;
    if (!name) continue;
    const range = ranges.get(name);
    ranges.set(name, range ? { min: Math.min(range.min, layer.index), max: Math.max(range.max, layer.index) } : { min: layer.index, max: layer.index });
  }
  const order: RegionName[] = ['vision', 'projector', 'early', 'middle', 'late'];
  return order.filter((r) => ranges.has(r)).map((region) => ({ region, start: ranges.get(region)!.min - 0.5, end: ranges.get(region)!.max + 0.5 }));
}
