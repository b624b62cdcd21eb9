// Lease-based leader election (coordination.k8s.io/v1), following client-go's leaderelection.
//
// Guarantees:
// - `run(work)` runs `work` only while this replica holds the Lease; if a renewal has not succeeded
//   for `renewDeadline` the work is interrupted (its finalizers run) and the replica becomes a
//   candidate again. Because renewDeadline (10 s) < leaseDuration (15 s), the old leader stops
//   before any other replica may consider the Lease expired;
// - another holder's Lease counts as expired `leaseDurationSeconds` after this replica last SAW it
//   change (local observation time, never the remote renewTime), so clock skew between replicas
//   does not matter;
// - all writes are optimistic (PUT with resourceVersion); a 409 simply loses that round;
// - on shutdown (interruption) the work is stopped first — the Lease keeps being renewed while
//   in-flight reconciles drain — and then, with `releaseOnCancel`, the Lease is released
//   (empty holderIdentity, leaseDurationSeconds 1) so a standby takes over at its next retry.
import { hostname } from "node:os"
import { Clock, Effect, Exit, Fiber, Random, Scope } from "effect"
import type { KubeClientShape } from "../kube/client.ts"
import { describeError, isKubeError } from "../kube/errors.ts"
import type { KubeObject } from "../kube/objects.ts"
import { Builtin } from "../kube/resources.ts"
import { jitteredMs } from "./backoff.ts"
import { microTime } from "./events.ts"

export interface LeaderElectionConfig {
  readonly namespace: string
  readonly name: string
  readonly identity: string
  readonly leaseDurationMs: number
  readonly renewDeadlineMs: number
  readonly retryPeriodMs: number
  readonly releaseOnCancel: boolean
  readonly onChange?: (leading: boolean) => void
}

export interface LeaseSpec {
  readonly holderIdentity?: string
  readonly leaseDurationSeconds?: number
  readonly acquireTime?: string
  readonly renewTime?: string
  readonly leaseTransitions?: number
}

interface LeaseObject extends KubeObject {
  readonly spec?: LeaseSpec
}

/** One term of leadership, as seen by the work it runs. */
export interface LeaderTerm {
  /** True once leadership was lost (the work is being stopped and should not linger). */
  readonly lost: () => boolean
}

export interface LeaderElector {
  readonly identity: string
  readonly isLeader: () => boolean
  /** Campaigns forever; runs `work` during each term of leadership. */
  readonly run: <E, R>(
    work: (term: LeaderTerm) => Effect.Effect<unknown, E, R>,
  ) => Effect.Effect<never, never, R>
}

/** `<pod or host name>_<random>`, unique per process (as controller-runtime builds it). */
export const defaultIdentity = (podName?: string): string => `${podName ?? hostname()}_${crypto.randomUUID()}`

export const makeLeaderElector = (
  client: KubeClientShape,
  cfg: LeaderElectionConfig,
): Effect.Effect<LeaderElector> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    let leading = false
    let observed: { readonly key: string; readonly at: number; readonly spec: LeaseSpec } | undefined
    let lastResourceVersion: string | undefined

    const setLeading = (v: boolean) => {
      if (leading === v) return
      leading = v
      cfg.onChange?.(v)
    }

    const at = { namespace: cfg.namespace, name: cfg.name }
    const durationSeconds = Math.max(1, Math.round(cfg.leaseDurationMs / 1000))

    const leaseBody = (spec: LeaseSpec, resourceVersion?: string): LeaseObject => ({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: cfg.name,
        namespace: cfg.namespace,
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      },
      spec,
    })

    /** One attempt; true when this replica holds the Lease afterwards. */
    const tryAcquireOrRenew: Effect.Effect<boolean> = Effect.gen(function* () {
      const t = now()
      const current = yield* Effect.result(client.get(Builtin.Lease, at))
      if (current._tag === "Failure") {
        if (current.failure._tag !== "NotFound") return yield* Effect.fail(current.failure)
        const spec: LeaseSpec = {
          holderIdentity: cfg.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(t),
          renewTime: microTime(t),
          leaseTransitions: 0,
        }
        const created = (yield* client.create(Builtin.Lease, leaseBody(spec))) as LeaseObject
        observed = { key: JSON.stringify(spec), at: t, spec }
        lastResourceVersion = created.metadata.resourceVersion
        return true
      }
      const lease = current.success as LeaseObject
      const spec = lease.spec ?? {}
      const key = JSON.stringify(spec)
      if (observed === undefined || observed.key !== key) observed = { key, at: t, spec }
      const holder = spec.holderIdentity ?? ""
      const expiresAt = observed.at + (spec.leaseDurationSeconds ?? durationSeconds) * 1000
      if (holder !== "" && holder !== cfg.identity && expiresAt > t) return false
      const mine = holder === cfg.identity
      const next: LeaseSpec = {
        holderIdentity: cfg.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime !== undefined ? spec.acquireTime : microTime(t),
        renewTime: microTime(t),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      }
      const updated = (yield* client.replace(
        Builtin.Lease,
        leaseBody(next, lease.metadata.resourceVersion),
      )) as LeaseObject
      observed = { key: JSON.stringify(next), at: t, spec: next }
      lastResourceVersion = updated.metadata.resourceVersion
      return true
    }).pipe(
      Effect.timeoutOption(cfg.renewDeadlineMs),
      Effect.map((o) => o._tag === "Some" && o.value),
      Effect.catch((e) =>
        Effect.as(
          e._tag === "Conflict" || e._tag === "AlreadyExists"
            ? Effect.void
            : Effect.logWarning("leader election: lease request failed", {
                lease: `${cfg.namespace}/${cfg.name}`,
                error: isKubeError(e) ? describeError(e) : String(e),
              }),
          false,
        ),
      ),
    )

    const sleepRetry = Effect.flatMap(Random.next, (r) => Effect.sleep(jitteredMs(cfg.retryPeriodMs, r, 0.1)))

    const acquire = Effect.gen(function* () {
      for (;;) {
        if (yield* tryAcquireOrRenew) return
        yield* sleepRetry
      }
    })

    /** Completes when leadership is lost. */
    const renewUntilLost = Effect.gen(function* () {
      let lastRenew = now()
      for (;;) {
        yield* Effect.sleep(cfg.retryPeriodMs)
        if (yield* tryAcquireOrRenew) lastRenew = now()
        else if (now() - lastRenew >= cfg.renewDeadlineMs) return
      }
    })

    const release = Effect.gen(function* () {
      const t = now()
      const spec: LeaseSpec = {
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: microTime(t),
        renewTime: microTime(t),
        leaseTransitions: observed?.spec.leaseTransitions ?? 0,
      }
      yield* client.replace(Builtin.Lease, leaseBody(spec, lastResourceVersion))
      yield* Effect.logInfo("leader election: lease released", { lease: `${cfg.namespace}/${cfg.name}` })
    }).pipe(
      Effect.timeoutOption(cfg.renewDeadlineMs),
      Effect.catch((e) => Effect.logWarning("leader election: release failed", { error: String(e) })),
    )

    const lead = <E, R>(work: (term: LeaderTerm) => Effect.Effect<unknown, E, R>) =>
      Effect.acquireUseRelease(
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          setLeading(true)
          yield* Effect.logInfo("leader election: became leader", { identity: cfg.identity })
          const term = { isLost: false }
          const workFiber = yield* Effect.forkIn(work({ lost: () => term.isLost }), scope)
          const renewFiber = yield* Effect.forkIn(renewUntilLost, scope)
          return { scope, workFiber, renewFiber, term }
        }),
        ({ workFiber, renewFiber }) =>
          Effect.raceFirst(
            Effect.as(Fiber.join(renewFiber), "lost" as const),
            Effect.as(Fiber.await(workFiber), "work ended" as const),
          ),
        ({ scope, workFiber, renewFiber, term }, exit) =>
          Effect.gen(function* () {
            const lost = renewFiber.pollUnsafe() !== undefined
            term.isLost = lost
            if (lost) yield* Effect.logWarning("leader election: lost leadership", { identity: cfg.identity })
            // Stop the work first; the Lease is still renewed while it drains.
            yield* Fiber.interrupt(workFiber)
            yield* Fiber.interrupt(renewFiber)
            yield* Scope.close(scope, Exit.void)
            const shuttingDown =
              exit._tag === "Failure" && exit.cause.reasons.some((r) => r._tag === "Interrupt")
            if (shuttingDown && !lost && cfg.releaseOnCancel) yield* release
            setLeading(false)
          }),
      )

    return {
      identity: cfg.identity,
      isLeader: () => leading,
      run: <E, R>(work: (term: LeaderTerm) => Effect.Effect<unknown, E, R>) =>
        // The pause after a term keeps a crashing work effect from spinning.
        Effect.forever(Effect.andThen(Effect.andThen(acquire, lead(work)), sleepRetry)) as Effect.Effect<
          never,
          never,
          R
        >,
    } satisfies LeaderElector
  })
