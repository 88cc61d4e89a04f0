#!/usr/bin/env node
// The `grantor` command. `npm install` compiles the TypeScript (the `prepare` script) into dist/.
import { runCli } from '../dist/src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
