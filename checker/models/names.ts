// The built-in models' names alone: what a command line offers, without loading the models.

import type { ModelName } from "../history.js";

export const MODEL_NAMES: readonly ModelName[] = ["cas-register", "kv", "set"];
