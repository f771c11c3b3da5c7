/** Answer scoring and the statistics of the probing and transfer analyses. */
export { SHORT_ANSWER_LENGTH, answersEqual, extractTaggedAnswer, looseAnswer, normalizeAnswer } from './normalize.js';
export {
  DEFAULT_IOU_THRESHOLD,
  NUMERIC_TOLERANCE,
  boxIou,
  extractFirstInteger,
  extractLastNumber,
  isCorrect,
  parseBox,
  parseYesNo,
  scoreAnswer,
  scoreExample,
  type AnswerScore,
  type ScoreOptions,
} from './correctness.js';
export { MATH_NUMBER_TOLERANCE, extractMathAnswer, lastBoxed, mathAnswersEqual, mathNumberValue, normalizeMathAnswer } from './math-answer.js';
export { bootstrapPairedDifference, bootstrapProportion, quantile, type BootstrapOptions, type Interval } from './bootstrap.js';
export { mcnemarExactP } from './mcnemar.js';
export { alignById, transitionStats, transitionStatsWithIntervals, type TransitionStats, type TransitionStatsWithIntervals } from './transitions.js';
