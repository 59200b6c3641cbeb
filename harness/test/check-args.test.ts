// check's own argument parser (check-cli.ts, node:util instead of commander): what it accepts,
// and the words of what it refuses, which match the other commands' (commander's).

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkHelp, parseCheckArgs } from "../check-cli.js";
import { UsageError } from "../exit.js";

function refusal(args: string[]): string {
  try {
    parseCheckArgs(args);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`${args.join(" ")} was accepted`);
}

describe("check's command line", () => {
  it("takes every flag, a value that starts with a dash, and files in any place", () => {
    const parsed = parseCheckArgs([
      "a.jsonl",
      "--model",
      "kv",
      "--format",
      "jsonl",
      "--initial",
      "-1",
      "--timeout",
      "2.5",
      "--workers=0",
      "--json",
      "--visualize",
      "v.html",
      "--witness",
      "--witness-dir",
      "w",
      "b.jsonl",
    ]);
    expect(parsed).toEqual({
      files: ["a.jsonl", "b.jsonl"],
      flags: {
        model: "kv",
        format: "jsonl",
        initial: "-1",
        timeout: 2.5,
        workers: 0,
        json: true,
        visualize: "v.html",
        witness: true,
        witnessDir: "w",
      },
    });
    expect(parseCheckArgs(["f"])).toEqual({ files: ["f"], flags: { format: "auto" } });
    expect(parseCheckArgs(["f", "-h"])).toBe("help");
    expect(parseCheckArgs(["--", "--json"])).toEqual({
      files: ["--json"],
      flags: { format: "auto" },
    });
  });

  it("names what is wrong, as commander does for the other commands", () => {
    expect(refusal([])).toBe("missing required argument 'file'");
    expect(refusal(["f", "--bogus"])).toBe("unknown option '--bogus'");
    expect(refusal(["f", "--timeout"])).toBe("option '--timeout <seconds>' argument missing");
    expect(refusal(["f", "--json=1"])).toBe("option '--json' does not take an argument");
    expect(refusal(["f", "--model", "queue"])).toMatch(
      /^option '--model <model>' argument 'queue' is invalid\. Allowed choices are register, cas-register, kv, set\.$/,
    );
    expect(refusal(["f", "--timeout", "1e9"])).toBe("--timeout: 1e9 is more than 86400 seconds");
    expect(refusal(["f", "--workers", "1.5"])).toBe("--workers: '1.5' is not a number of threads");
  });

  it("lists every flag in its help, wrapped at 80 columns", () => {
    const help = checkHelp();
    for (const flag of [
      "--model <model>",
      "--format <format>",
      "--timeout <seconds>",
      "--witness-dir <dir>",
      "-h, --help",
    ])
      expect(help).toContain(`  ${flag}`);
    expect(Math.max(...help.split("\n").map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  // The executable prints the help the build wrote, without loading the ESM CLI: it must be
  // today's help, every way it can be asked for.
  it.skipIf(!existsSync("dist/check-help.txt"))("is the built help, from the executable", () => {
    for (const args of [
      ["check", "--help"],
      ["check", "-h"],
      ["help", "check"],
    ])
      expect(
        execFileSync(process.execPath, ["bin/paxos-harness.cjs", ...args], { encoding: "utf8" }),
      ).toBe(checkHelp());
  });
});
