// The comparison of two runs that the PR gate and `bench compare` use: its design, decisions and rendering.
export { compareRuns, type CellComparison, type CompareOptions, type ComparisonResult } from './compare.js';
export { decideCell, pooled, type CellCounts, type Decision, type DecideContext, type Verdict } from './decide.js';
export { alphaSpent, calibrateLevels, cellAlpha, DEFAULT_GATE_CONFIG, exactFalseAlarmRate, GateConfigSchema, lookLevels, resolveGateConfig, type GateConfig } from './design.js';
export { renderComparisonMarkdown } from './render.js';
export type { SideSummary } from './pairing.js';
