// The CLI entry: everything lives in src/cli.
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
