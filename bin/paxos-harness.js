#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { main } from "../dist/harness/cli.js";

process.exitCode = await main(process.argv.slice(2));
