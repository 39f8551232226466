/** Lints .github/workflows and actions/ (see src/github/workflow-lint.ts). Exit 1 on any problem. */
import path from 'node:path';
import { lintWorkflows } from '../src/github/workflow-lint.js';

const root = path.resolve(import.meta.dirname, '..');
const problems = await lintWorkflows(root);
for (const p of problems) console.error(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
console.error(problems.length ? `workflow lint: ${problems.length} problem(s)` : 'workflow lint: ok');
process.exit(problems.length ? 1 : 0);
