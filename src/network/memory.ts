/**
 * `DnsMemory`: the process-wide grace memory (grace.ts) behind a service, so every reconciler shares one
 * view of recently seen addresses, and `resolveEgressNames`, the one call a gatherer needs for names.
 *
 * Guarantees: updates are atomic (one `Ref.modify` per batch), time comes from Effect's `Clock` (TestClock
 * in tests), and the memory is pruned on every batch, so it holds at most one grace period of answers.
 */
import { Clock, Context, Effect, Layer, Ref } from "effect"
import { Dns } from "./dns.ts"
import { emptyGraceMemory, type GraceMemory, withGrace } from "./grace.ts"
import type { DnsAnswer } from "./names.ts"

export interface DnsMemoryShape {
  /** Fresh answers ∪ addresses seen within `graceMs` (see `withGrace`); records the fresh ones. */
  readonly remember: (
    answers: ReadonlyMap<string, DnsAnswer>,
    graceMs: number,
  ) => Effect.Effect<ReadonlyMap<string, DnsAnswer>>
  /** Current memory (for diagnostics and tests). */
  readonly snapshot: Effect.Effect<GraceMemory>
}

export class DnsMemory extends Context.Service<DnsMemory, DnsMemoryShape>()("langop/network/DnsMemory") {
  static readonly layer: Layer.Layer<DnsMemory> = Layer.effect(
    DnsMemory,
    Effect.map(Ref.make(emptyGraceMemory), (ref) => ({
      remember: (answers, graceMs) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(ref, (memory) => {
            const next = withGrace(memory, answers, now, graceMs)
            return [next.answers, next.memory] as const
          }),
        ),
      snapshot: Ref.get(ref),
    })),
  )
}

/**
 * Resolves `names` (already `dnsKey`s, e.g. `buildEgressPolicy(...).lookups.names`) and merges the
 * answers with the grace memory; the result is ready for `EgressWorld.dns`.
 */
export const resolveEgressNames = (
  names: Iterable<string>,
  graceMs: number,
): Effect.Effect<ReadonlyMap<string, DnsAnswer>, never, Dns | DnsMemory> =>
  Effect.gen(function* () {
    const dns = yield* Dns
    const memory = yield* DnsMemory
    const answers = yield* dns.resolveAll(names)
    return yield* memory.remember(answers, graceMs)
  })
