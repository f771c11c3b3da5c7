/**
 * The world's 5x7 bitmap font for capital letters A-Z, drawn for this
 * project. Each glyph is 7 rows of 5 characters, '#' for ink.
 */

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Blank font pixels between letters. */
export const GLYPH_GAP = 1;

const ROWS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .###.',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
};

/** Glyph bitmaps: GLYPH_HEIGHT rows of GLYPH_WIDTH booleans, true for ink. */
export const FONT: Readonly<Record<string, readonly (readonly boolean[])[]>> = Object.fromEntries(
  Object.entries(ROWS).map(([letter, rows]) => [letter, rows.split(' ').map((row) => [...row].map((c) => c === '#'))]),
);

/**
 * Width and height in pixels of a word drawn at `scale`.
 * @throws RangeError for a letter outside A-Z
 */
export function wordExtent(word: string, scale: number): { width: number; height: number } {
  for (const letter of word) {
    if (FONT[letter] === undefined) throw new RangeError(`'word' may hold only capital letters A-Z, got ${JSON.stringify(word)}`);
  }
  const n = word.length;
  return { width: scale * (n * GLYPH_WIDTH + Math.max(0, n - 1) * GLYPH_GAP), height: scale * GLYPH_HEIGHT };
}

/** Short common words (3-5 letters) the OCR questions draw from. */
export const WORDS: readonly string[] = [
  'CAT', 'DOG', 'SUN', 'BOX', 'CUP', 'HAT', 'PEN', 'MAP', 'KEY', 'BUS', 'OWL', 'FOX', 'JAM', 'ZIP',
  'TREE', 'FISH', 'STAR', 'MOON', 'BIRD', 'LAMP', 'CAKE', 'DOOR', 'SHIP', 'WOLF', 'KING', 'JUMP', 'QUIZ', 'VASE',
  'APPLE', 'HOUSE', 'CLOUD', 'TRAIN', 'PLANT', 'RIVER', 'SMILE', 'BREAD', 'QUEEN', 'WATER', 'GHOST', 'LEMON',
];
