// `paxos-harness doctor`: exits 0 and says, for every runtime and nemesis kind, yes or why not.

import { describe, expect, it } from "vitest";
import { netemUnavailable } from "../runtime/iptables.js";
import { NEMESIS_KINDS } from "../types.js";
import { runCli } from "./run-cli.js";

describe("paxos-harness doctor", () => {
  it("lists both runtimes and every nemesis kind, and exits 0", async () => {
    const r = runCli(["doctor"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^runtime local: yes/m);
    expect(r.stdout).toMatch(/^runtime docker: (yes|no: .+)$/m);
    for (const kind of NEMESIS_KINDS) {
      expect(r.stdout).toMatch(
        new RegExp(`^nemesis ${kind} \\(local\\): (yes(: .+)?|no: .+)$`, "m"),
      );
      expect(r.stdout).toMatch(new RegExp(`^nemesis ${kind} \\(docker\\): (yes|no: .+)$`, "m"));
    }
    if (process.getuid?.() === 0) expect(r.stdout).toMatch(/^nemesis partition \(local\): yes$/m);
    expect(r.stdout).toMatch(/^nemesis delay \(local\): yes: (relay|netem) \(.+\)$/m);
    if ((await netemUnavailable()) !== undefined) {
      expect(r.stdout).toMatch(
        /^nemesis delay \(local\): yes: relay \(this kernel has no sch_netem\)$/m,
      );
    }
  });
});
