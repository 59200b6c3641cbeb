// Part of `npm run build`: writes `check --help` to dist/check-help.txt, which
// bin/paxos-harness.cjs prints without loading the ESM CLI (see there why).
import { writeFileSync } from "node:fs";
import { checkHelp } from "../dist/harness/check-cli.js";

writeFileSync(new URL("../dist/check-help.txt", import.meta.url), checkHelp());
