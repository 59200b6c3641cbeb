// The test's configuration: the README's `test` flags, from `--config FILE.yaml` (the same
// field names, kebab-case) merged with the flags given (flags win). Every error names where
// the bad value came from (the file or the flag), the field and the value; the CLI prints it
// as one line and exits 3.

import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, stringify } from "yaml";
import { z } from "zod";
import { WORKLOAD_NAMES, type WorkloadName } from "../workloads/index.js";
import { UsageError } from "./exit.js";
import {
  type FaultSchedule,
  resolveSchedule,
  scheduleKinds,
  scheduleSchema,
} from "./fault-schedule.js";
import { MAX_SECONDS } from "./limits.js";
import { NEMESIS_KINDS, type NemesisKind } from "./types.js";

export interface TestConfig {
  name: string;
  backend: string;
  runtime: "auto" | "local" | "docker";
  nodes: number;
  workload: WorkloadName;
  nemesis: NemesisKind[];
  /**
   * The nemesis was given as `all`: every kind the runtime can do on this machine. The CLI glue
   * leaves out the kinds it cannot (saying which and why) instead of refusing the run.
   */
  nemesisAll?: boolean;
  /**
   * No nemesis was given (flag or file): the default kinds, of which the CLI glue runs those this
   * machine supports, naming the others (`npm start` on a machine without root or iptables).
   */
  nemesisDefault?: boolean;
  /** Seconds between the starts of two faults. */
  nemesisInterval: number;
  /** No interval was given: the CLI glue may shorten the default so every kind gets its turn. */
  nemesisIntervalDefault?: boolean;
  /** Seconds of workload. */
  timeLimit: number;
  /** Operations per second, all workers together. */
  rate: number;
  concurrency: number;
  keys: number;
  distribution: "uniform" | "zipfian";
  seed: number;
  store: string;
  /** Seconds an operation may take before it counts as indeterminate (info). */
  opTimeout: number;
  /** Seconds given to the cluster after the last heal, before the final phase. */
  recovery: number;
  /** Seconds the checker may take before the verdict is unknown. */
  checkTimeout: number;
  /** The faults as data (fault-schedule.ts); absent: the default turns of `nemesis`. */
  schedule?: FaultSchedule;
}

/** Field names as in the YAML file; flags are the same with `--`. */
export const FIELDS = [
  "name",
  "backend",
  "runtime",
  "nodes",
  "workload",
  "nemesis",
  "nemesis-interval",
  "time-limit",
  "rate",
  "concurrency",
  "keys",
  "distribution",
  "seed",
  "store",
  "op-timeout",
  "recovery",
  "check-timeout",
  "schedule",
] as const;
export type Field = (typeof FIELDS)[number];

/** Numbers may come as text (flags) or numbers (YAML). */
const numeric = (inner: z.ZodNumber) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v),
    inner,
  );
/**
 * A duration in seconds, at most `max`: Node's timers hold at most 2^31-1 ms (about 24.8 days)
 * and fire at once past it, so a huge value would silently invert the test (every operation
 * info, faults every millisecond); each duration has a bound that makes sense for it.
 */
const seconds = (max: number, min: "positive" | "zero" = "positive") => {
  const base = z.number({ error: "must be a number of seconds" });
  return numeric(
    (min === "positive"
      ? base.positive({ error: "must be > 0" })
      : base.min(0, { error: "must be >= 0" })
    ).max(max, { error: `must be at most ${max} seconds` }),
  );
};
const count = (max: number) =>
  numeric(
    z
      .number({ error: "must be a whole number" })
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(max, { error: `must be at most ${max}` }),
  );

const nemesisList = z
  .union([z.string(), z.array(z.string())], {
    error: `must be none, all, or a list of ${NEMESIS_KINDS.join(", ")}`,
  })
  .transform((v, ctx): NemesisKind[] => {
    const items = (Array.isArray(v) ? v : v.split(",")).map((s) => String(s).trim());
    // An empty list or an empty item (`''`, `partition,,kill`) is a typo, never "no faults".
    if (items.length === 0 || items.some((i) => i === "")) {
      ctx.addIssue({
        code: "custom",
        message: `is empty or has an empty item (none, all, or a comma-separated list of ${NEMESIS_KINDS.join(", ")})`,
      });
      return z.NEVER;
    }
    if (items.length === 1 && items[0] === "none") return [];
    if (items.length === 1 && items[0] === "all") return [...NEMESIS_KINDS];
    const kinds: NemesisKind[] = [];
    for (const item of items) {
      if (item === "none" || item === "all") {
        ctx.addIssue({
          code: "custom",
          message: `"${item}" stands alone; it cannot be listed with other kinds`,
        });
        return z.NEVER;
      }
      if (!(NEMESIS_KINDS as readonly string[]).includes(item)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown nemesis "${item}" (none, all, or some of ${NEMESIS_KINDS.join(", ")})`,
        });
        return z.NEVER;
      }
      if (!kinds.includes(item as NemesisKind)) kinds.push(item as NemesisKind);
    }
    return kinds;
  });

const schema = z.strictObject({
  name: z
    .string({ error: "must be a name" })
    .regex(/^[A-Za-z0-9._-]+$/, { error: "may hold only letters, digits, '.', '_' and '-'" })
    .optional(),
  backend: z.string({ error: "must be builtin, a name or a path" }).min(1).default("builtin"),
  runtime: z
    .enum(["auto", "local", "docker"], { error: "must be auto, local or docker" })
    .default("auto"),
  nodes: count(99).default(5),
  workload: z.enum(WORKLOAD_NAMES, { error: "must be register, kv or set" }).default("kv"),
  nemesis: nemesisList.default(["partition", "kill", "pause"]),
  "nemesis-interval": seconds(MAX_SECONDS.nemesisInterval).default(10),
  "time-limit": seconds(MAX_SECONDS.timeLimit).default(60),
  // A worker waits up to 2 * concurrency / rate s between operations: at 0.01 ops/s and 10,000
  // workers that is 23 days, still under the timers' 24.8.
  rate: numeric(
    z
      .number({ error: "must be a number" })
      .min(0.01, { error: "must be at least 0.01 operations per second" }),
  ).default(200),
  concurrency: count(10_000).default(10),
  keys: count(1_000_000).optional(),
  distribution: z
    .enum(["uniform", "zipfian"], { error: "must be uniform or zipfian" })
    .default("uniform"),
  seed: numeric(
    z
      .number({ error: "must be a whole number" })
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be >= 0" })
      .max(2 ** 32 - 1, { error: "must be < 2^32" }),
  ).optional(),
  store: z.string({ error: "must be a directory" }).min(1).default("store"),
  "op-timeout": seconds(MAX_SECONDS.opTimeout).default(3),
  recovery: seconds(MAX_SECONDS.recovery, "zero").default(5),
  "check-timeout": seconds(MAX_SECONDS.checkTimeout).default(300),
  schedule: scheduleSchema.optional(),
});

export type RawConfig = Partial<Record<Field, unknown>>;

/**
 * One field's schema as a file writes it: the schema above without its default (a suite's
 * `defaults:` and each test's own fields are merged first; resolveConfig applies the defaults).
 */
export function fieldSchema(field: Field): z.ZodType {
  const s = schema.shape[field] as z.ZodType;
  const inner = s instanceof z.ZodDefault || s instanceof z.ZodOptional ? s.unwrap() : s;
  return inner as z.ZodType;
}

/**
 * The test's fields, each optional: the same schema as `--config FILE.yaml`'s, for the suite
 * file's schema to build on (suite/suite-schema.ts), so that a suite's tests and a test's YAML
 * are checked by one definition.
 */
export const testFieldsSchema = z.strictObject(
  Object.fromEntries(FIELDS.map((f) => [f, fieldSchema(f).optional()])) as Record<
    Field,
    z.ZodOptional<z.ZodType>
  >,
);

/** Reads a YAML config file: a mapping of the fields above. Errors name the file (and line). */
export function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const why = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw new UsageError(`${file}${line === undefined ? "" : `:${line}`}: not valid YAML: ${why}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`${file}: must be a mapping of test fields (nodes: 5, workload: kv, ...)`);
  }
  return value as RawConfig;
}

/**
 * The test's configuration from the file's fields and the flags' (flags win). `seed` defaults
 * to a random one, recorded in config.yaml so that a run can be repeated.
 */
export function resolveConfig(
  flags: RawConfig,
  file?: { path: string; fields: RawConfig },
): TestConfig {
  const given: RawConfig = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) given[k as Field] = v;
  const merged: Record<string, unknown> = { ...(file?.fields ?? {}), ...given };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issues = [...parsed.error.issues].sort(
      (a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"),
    );
    const issue = issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0] ?? "";
      if (issue.path.length === 0) {
        throw new UsageError(
          `${file?.path ?? "config"}: unknown field "${key}" (known: ${FIELDS.join(", ")})`,
        );
      }
      // Inside a field (a schedule, one of its faults): that mapping's own fields.
      const name = issue.path.map(String).join(".");
      const where =
        String(issue.path[0]) in given || !file
          ? `--${String(issue.path[0])}`
          : fileLine(file.path, [...issue.path, key]);
      throw new UsageError(
        `${where}: ${name}: unknown field "${key}" (known: ${knownFieldsAt(issue.path).join(", ")})`,
      );
    }
    const field = String(issue.path[0] ?? "");
    const inner = issue.path.slice(1).map(String);
    const name = [field, ...inner].join(".");
    const where =
      field in given || !file ? `--${name}` : `${fileLine(file.path, issue.path)}: ${name}`;
    throw new UsageError(`${where}: ${issue.message} (got ${show(valueAt(merged, issue.path))})`);
  }
  const c = parsed.data;
  let schedule: FaultSchedule | undefined;
  let nemesisKinds = c.nemesis;
  if (c.schedule !== undefined) {
    const s = resolveSchedule(c.schedule, c["nemesis-interval"]);
    const at = (path: PropertyKey[]) =>
      "schedule" in given || !file ? "--schedule" : fileLine(file.path, ["schedule", ...path]);
    if ("message" in s) {
      const fieldPath = s.field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      throw new UsageError(`${at(fieldPath)}: schedule.${s.field}: ${s.message}`);
    }
    const kinds = scheduleKinds(s);
    if (merged.nemesis === undefined) nemesisKinds = kinds;
    else {
      const i = s.faults.findIndex((f) => !c.nemesis.includes(f.kind));
      if (i >= 0) {
        throw new UsageError(
          `${at(["faults", i, "kind"])}: schedule.faults.${i}.kind: ${s.faults[i]?.kind} is not in nemesis (${c.nemesis.join(", ") || "none"})`,
        );
      }
    }
    schedule = s;
  }
  const workload = c.workload;
  const backendName = c.backend.split(/[\\/]/).filter(Boolean).pop() ?? c.backend;
  return {
    name: c.name ?? `${backendName.replace(/[^A-Za-z0-9._-]/g, "_")}-${workload}`,
    backend: c.backend,
    runtime: c.runtime,
    nodes: c.nodes,
    workload,
    nemesis: nemesisKinds,
    nemesisAll: isAll(merged.nemesis),
    nemesisDefault: merged.nemesis === undefined && schedule === undefined,
    nemesisInterval: c["nemesis-interval"],
    nemesisIntervalDefault: merged["nemesis-interval"] === undefined,
    timeLimit: c["time-limit"],
    rate: c.rate,
    concurrency: c.concurrency,
    keys: c.keys ?? (workload === "kv" ? 10 : 1),
    distribution: c.distribution,
    seed: c.seed ?? Math.floor(Math.random() * 2 ** 32),
    store: c.store,
    opTimeout: c["op-timeout"],
    recovery: c.recovery,
    checkTimeout: c["check-timeout"],
    ...(schedule ? { schedule } : {}),
  };
}

/** The value at a path of the merged fields (for "got ..."). */
function valueAt(fields: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let v: unknown = fields;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The fields of the mapping at `path` in the schema (a schedule, a schedule's fault). */
function knownFieldsAt(path: readonly PropertyKey[]): string[] {
  let at: z.ZodType = schema;
  for (const step of path) {
    if (at instanceof z.ZodObject) at = at.shape[String(step)] as z.ZodType;
    else if (at instanceof z.ZodArray) at = at.element as z.ZodType;
    if (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** `file:line` of the node at this path of a YAML file (just `file` when it cannot tell). */
function fileLine(file: string, path: readonly PropertyKey[]): string {
  try {
    const counter = new LineCounter();
    const doc = parseDocument(readFileSync(file, "utf8"), { lineCounter: counter });
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range) return `${file}:${counter.linePos(node.range[0]).line}`;
      // A key whose value is a scalar: the pair's key carries the position.
    }
  } catch {}
  return file;
}

/** The configuration as recorded in the run's config.yaml (the file's own field names). */
export function configYaml(config: TestConfig, extra: Record<string, unknown> = {}): string {
  return stringify({
    name: config.name,
    backend: config.backend,
    runtime: config.runtime,
    nodes: config.nodes,
    workload: config.workload,
    nemesis: config.nemesis.length === 0 ? "none" : config.nemesis,
    "nemesis-interval": config.nemesisInterval,
    "time-limit": config.timeLimit,
    rate: config.rate,
    concurrency: config.concurrency,
    keys: config.keys,
    distribution: config.distribution,
    seed: config.seed,
    store: config.store,
    "op-timeout": config.opTimeout,
    recovery: config.recovery,
    "check-timeout": config.checkTimeout,
    ...(config.schedule ? { schedule: config.schedule } : {}),
    ...extra,
  });
}

/** `all`, as a string or a one-item list. */
function isAll(nemesis: unknown): boolean {
  const items = Array.isArray(nemesis)
    ? nemesis
    : typeof nemesis === "string"
      ? nemesis.split(",")
      : [];
  const given = items.map((s) => String(s).trim()).filter(Boolean);
  return given.length === 1 && given[0] === "all";
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
