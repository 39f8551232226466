/**
 * Everything a task folder uses of the harness, in one module: task.ts and grader.ts import from here
 * and nowhere else in src/, so the task API is one surface that can be read, documented and kept stable.
 */
export { STANDARD_TOOLS, profilePythonTool, readFileTool, runPythonTool, writeFileTool } from './agents/tools/index.js';
export { JUDGE_CHECK_PREFIX, VERDICT_CHECK, fenceSubmission, judgeWithRubric } from './grading/rubric-judge.js';
export { defineRubric, rubricMaxPoints } from './grading/rubric.js';
export { runJudge } from './grading/judge.js';
export type { JudgeAccess } from './grading/judge.js';
export type { Rubric } from './grading/rubric.js';
export type { RubricJudgement } from './grading/rubric-judge.js';
export { LIBRARY_DIR, LIBRARY_MOUNT, runPythonCheck } from './grading/python-check.js';
export type { PythonCheckSpec } from './grading/python-check.js';
export { runInterleaved } from './grading/timing.js';
export type { TimedRun } from './grading/timing.js';
export { CheckSchema, GraderInfraError } from './grading/types.js';
export type { Check, Grade, GradeContext } from './grading/types.js';
export { auditArxivIds, citedCorpusPapers, describeBadIds, graderAddressing } from './research/citations.js';
export { TOPICS, TopicSchema, arxivIdsIn, corpus, defaultLibrary, literatureDigest, literatureTools, normalizeArxivId, paperTools, tokens } from './research/index.js';
export type { ResearchLibrary, Topic } from './research/index.js';
export type { SandboxExecResult, SandboxLimits } from './sandbox/types.js';
export { defineTask } from './tasks/index.js';
export { readPlainFile } from './files.js';
