// A history operation in one line, for the checker's tests.

import type { HistoryOp, OpInput, OpOutput } from "../history.js";
import type { UNKNOWN } from "../model.js";

export const historyOp = (
  clientId: number,
  input: OpInput,
  call: number,
  ret: number,
  output: OpOutput | typeof UNKNOWN = {},
): HistoryOp => ({ clientId, input, call, return: ret, output });
