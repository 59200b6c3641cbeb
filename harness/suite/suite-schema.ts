// The suite file's schema (zod, as config.ts's), one definition for every part of the file:
//
//   name:      the suite's name (default: the file's, without .yaml); junit.xml's classname
//   floor:     the least throughput before the first fault, a fraction of the asked rate (0.1)
//   defaults:  test fields every test starts from
//   schedules: named fault schedules (fault-schedule.ts's format), for `schedule: NAME`
//   tests:     a list of tests, each test fields plus `matrix:` and `repeat:`
//
// The test fields are config.ts's own (testFieldsSchema): a test of a suite and a test's
// `--config FILE.yaml` are checked by the same schema. In a suite a test's `schedule` may also
// be the name of one of `schedules:`. Only the shape is checked here; what spans fields (a
// schedule's kinds against `nemesis`, a fault lasting past the next of its kind) is
// resolveConfig's, on each run the matrix makes (suite-file.ts).

import { z } from "zod";
import { FIELDS, fieldSchema, testFieldsSchema } from "../config.js";
import { scheduleSchema } from "../fault-schedule.js";

/** The top-level keys of a suite file. */
export const SUITE_KEYS = ["name", "floor", "defaults", "schedules", "tests"] as const;
/** What a matrix may vary. */
export const MATRIX_KEYS = ["backend", "workload", "schedule", "nemesis"] as const;
export type MatrixKey = (typeof MATRIX_KEYS)[number];
/** A test's keys beyond the test command's fields. */
export const TEST_EXTRA_KEYS = ["matrix", "repeat"] as const;

/** The suite's floor when it gives none: 10% of the asked rate. */
export const DEFAULT_FLOOR = 0.1;
/** Repetitions of one test at most (a typo of 10000 would be a week of runs). */
export const MAX_REPEAT = 1000;

const name = z
  .string({ error: "must be a name" })
  .regex(/^[A-Za-z0-9._-]+$/, { error: "may hold only letters, digits, '.', '_' and '-'" });

/**
 * A test's schedule: a name of `schedules:`, or a schedule written out. Checked by hand rather
 * than as a union, so that an error is the schedule's own ("faults.0.kind: must be one of...")
 * and not "matches neither".
 */
const scheduleField = z.unknown().superRefine((value, ctx) => {
  const result =
    typeof value === "string" ? name.safeParse(value) : scheduleSchema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) ctx.addIssue({ ...issue });
});

/** A test's fields, a schedule by name allowed (`defaults:` too). */
const fieldsShape = { ...testFieldsSchema.shape, schedule: scheduleField.optional() };

const list = (field: "backend" | "workload" | "nemesis", what: string) =>
  z.array(fieldSchema(field), { error: `must be a list of ${what}` }).optional();

const matrixValues = {
  backend: list("backend", "backends"),
  workload: list("workload", "workloads"),
  schedule: z.array(name, { error: "must be a list of schedule names" }).optional(),
  nemesis: list("nemesis", "nemesis values (each none, all, or kinds)"),
};

const matrix = z
  .strictObject(
    {
      ...matrixValues,
      exclude: z
        .array(
          z.strictObject(
            {
              backend: fieldSchema("backend").optional(),
              workload: fieldSchema("workload").optional(),
              schedule: name.optional(),
              nemesis: fieldSchema("nemesis").optional(),
            },
            { error: "must be a mapping of matrix values to leave out" },
          ),
          { error: "must be a list of combinations to leave out" },
        )
        .optional(),
    },
    { error: `must be a mapping of lists: ${MATRIX_KEYS.join(", ")} (and exclude)` },
  )
  .refine((m) => MATRIX_KEYS.some((k) => m[k] !== undefined), {
    error: `must list at least one of ${MATRIX_KEYS.join(", ")}`,
  });

const testItem = z.strictObject(
  {
    ...fieldsShape,
    matrix: matrix.optional(),
    repeat: z
      .number({ error: "must be a whole number" })
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(MAX_REPEAT, { error: `must be at most ${MAX_REPEAT}` })
      .optional(),
  },
  { error: "must be a mapping of test fields" },
);

export const suiteSchema = z.strictObject(
  {
    name: name.optional(),
    floor: z
      .number({ error: "must be a fraction of the asked rate, from 0 to 1 (0.1: 10%)" })
      .min(0, { error: "must be at least 0 (0: no floor)" })
      .max(1, { error: "must be at most 1 (the whole asked rate)" })
      .optional(),
    defaults: z.strictObject(fieldsShape, { error: "must be a mapping of test fields" }).optional(),
    schedules: z
      .record(name, scheduleSchema, { error: "must be a mapping of names to schedules" })
      .optional(),
    tests: z
      .array(testItem, {
        error: (issue) =>
          issue.input === undefined
            ? "missing (a list of tests)"
            : "must be a non-empty list of tests",
      })
      .min(1, { error: "must be a non-empty list of tests" }),
  },
  { error: "must be a mapping with tests: (a list of tests, each a mapping of test fields)" },
);

/**
 * The keys a mapping at this path of the file may hold, for an "unknown key" message; undefined
 * where the schema's own message says it (a schedule, a fault).
 */
export function knownKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  const [top, second, third, fourth] = path;
  if (path.length === 0) return SUITE_KEYS;
  if (top === "defaults" && path.length === 1) return FIELDS;
  if (top !== "tests" || typeof second !== "number") return undefined;
  if (path.length === 2) return [...FIELDS, ...TEST_EXTRA_KEYS];
  if (third === "matrix" && path.length === 3) return [...MATRIX_KEYS, "exclude"];
  if (third === "matrix" && fourth === "exclude") return MATRIX_KEYS;
  return undefined;
}
