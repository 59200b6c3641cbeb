// Generators: pure values that say what a test does next (types.ts), the combinators to build
// them from, and the interpreters that run them (in real time, or simulated).

export { concat, cycle, empty, fn, limit, log, once, random, sleep } from "./basic.js";
export { flipFlop, mix, phases, synchronize, untilOk } from "./control.js";
export { interpret } from "./interpret.js";
export { any, clients, each, nemesis, onThreads } from "./routing.js";
export { simulate } from "./simulate.js";
export { stagger, timeLimit } from "./time.js";
export type * from "./types.js";
