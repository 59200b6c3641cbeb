// The run's randomness: one seed, and an independent stream per fixed name ("workload/3",
// "nemesis", "stagger"), so that which numbers a caller gets never depends on when the other
// callers asked. Streams are pure-rand's xoroshiro128+, each seeded from the run's seed and a
// hash of its name.

import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

/** FNV-1a over the name's UTF-16 units: a stable 32-bit number per name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A pure random stream: drawing returns the number and the stream after it; `this` is unchanged. */
export class Stream {
  private constructor(private readonly rng: RandomGenerator) {}

  /** The stream named `name` of the run seeded `seed`. */
  static of(seed: number, name: string): Stream {
    // Mixing the seed into the high word keeps seed s / name a apart from seed a / name s.
    const mixed = (Math.imul(seed >>> 0, 0x9e3779b1) ^ hashName(name)) | 0;
    return new Stream(xoroshiro128plus(mixed));
  }

  /** A number in [0, 1). */
  float(): [number, Stream] {
    const next = this.rng.clone();
    return [uniformFloat64(next), new Stream(next)];
  }

  /** An integer in [0, n); n >= 1. */
  int(n: number): [number, Stream] {
    const next = this.rng.clone();
    return [uniformInt(next, 0, n - 1), new Stream(next)];
  }

  /** A mutable view for callers that draw in a fixed order of their own (one worker). */
  toFunction(): () => number {
    const rng = this.rng.clone();
    return () => uniformFloat64(rng);
  }
}

/** The stream `name` of the seed as a function of numbers in [0, 1) (one caller, its own order). */
export function randomOf(seed: number, name: string): () => number {
  return Stream.of(seed, name).toFunction();
}

/** The streams of one run. */
export class Streams {
  constructor(readonly seed: number) {}

  stream(name: string): Stream {
    return Stream.of(this.seed, name);
  }

  /** `stream(name)` as a function of numbers in [0, 1), for callers that keep their own order. */
  random(name: string): () => number {
    return this.stream(name).toFunction();
  }
}
