export { defineTask, type TaskDefinition, type TaskDefinitionInput, type Limits, type Requirements } from './define.js';
export { loadTask, loadTasks, TaskDefinitionError, TASKS_DIR, REPO_ROOT, type LoadedTask, type Variant } from './load.js';
