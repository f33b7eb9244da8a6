#!/usr/bin/env node
// Entry point installed as `praxisbox`. The TypeScript sources are compiled to dist/ by `npm run build`.
import { runCli } from '../dist/agent/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
