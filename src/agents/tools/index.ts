import type { ToolDef } from '../tool.js';
import { readFileTool, writeFileTool } from './files.js';
import { runPythonTool } from './run-python.js';

export { readFileTool, writeFileTool, resolveWorkspacePath, WorkspacePathError, READ_FILE_MAX_BYTES } from './files.js';
export { runPythonTool, formatRun, HIDDEN_DIR } from './run-python.js';
export { profilePythonTool, profileDriver, PROFILE_TOP_MAX } from './profile-python.js';

/** The tools every task gets unless it declares its own. */
export const STANDARD_TOOLS: ToolDef[] = [runPythonTool, readFileTool, writeFileTool];
