// The built-in models by name.

import type { HistoryOp, ModelName, OpInput, OpOutput, Value } from "../history.js";
import type { Model } from "../model.js";
import { casRegisterModel, kvModel, registerRejects } from "./register.js";
import { setModel, setRejects } from "./set.js";

export { MODEL_NAMES } from "./names.js";

/** A built-in model; its state type is its own business (Model's methods take it back as is). */
export type BuiltinModel = Model<unknown, OpInput, OpOutput>;

export function modelFor(name: ModelName, options: { initial?: Value } = {}): BuiltinModel {
  switch (name) {
    case "cas-register":
      return casRegisterModel(options);
    case "kv":
      return kvModel(options);
    case "set":
      return setModel();
  }
}

/** The first operation the named model cannot check, if any. */
export function unsupportedOp(name: ModelName, ops: readonly HistoryOp[]): HistoryOp | undefined {
  return name === "set" ? setRejects(ops) : registerRejects(ops);
}
