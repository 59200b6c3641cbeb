// `paxos-harness doctor`: exits 0 and says, for every runtime and nemesis kind, yes or why not.

import { describe, expect, it } from "vitest";
import { NEMESIS_KINDS } from "../types.js";
import { runCli } from "./run-cli.js";

describe("paxos-harness doctor", () => {
  it("lists both runtimes and every nemesis kind, and exits 0", () => {
    const r = runCli(["doctor"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^runtime local: yes/m);
    expect(r.stdout).toMatch(/^runtime docker: (yes|no: .+)$/m);
    for (const kind of NEMESIS_KINDS) {
      expect(r.stdout).toMatch(new RegExp(`^nemesis ${kind} \\(local\\): (yes|no: .+)$`, "m"));
      expect(r.stdout).toMatch(new RegExp(`^nemesis ${kind} \\(docker\\): (yes|no: .+)$`, "m"));
    }
    if (process.getuid?.() === 0) expect(r.stdout).toMatch(/^nemesis partition \(local\): yes$/m);
    expect(r.stdout).toMatch(/^nemesis delay \(local\): (yes|no: delay .+)$/m);
  });
});
