#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=2
// Entry point installed as `praxisbox`. The V8 flags keep idle RSS within the box's budget
// (docs/agent.md, "Memory budget"): a small young generation (about 12 MB less, at the cost of more
// frequent, cheap scavenges) and two V8 background threads instead of four (about 5 MB less: each
// thread keeps its own malloc arena). The TypeScript sources are compiled to dist/ by `npm run build`.
import { runCli } from '../dist/agent/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
