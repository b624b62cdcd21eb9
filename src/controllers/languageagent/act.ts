/**
 * Carries out a LanguageAgent decision against the API server.
 *
 * Guarantees:
 * - The finalizer is added by JSON patch with a resourceVersion test, never by a whole-object update.
 * - Steps run in the spec's order and the sequence stops at the first failing step (its reason goes into
 *   `Ready`); a step whose object belongs to someone else writes nothing (NameConflict).
 * - Children are written by server-side apply (forced, under the configured field manager) only when they
 *   differ from the live object (common/apply.ts); the NetworkPolicy also not when it is semantically
 *   equivalent; deletions carry a uid precondition and tolerate NotFound.
 * - A rejected workspace storage increase is reported (`WorkspaceResizeFailed`) without stopping the
 *   sequence; the workload keeps using the existing claim.
 * - Status goes through the status subresource by server-side apply, only when it changed; Events are
 *   recorded after the status that explains them. A failed write fails the reconcile (after the status
 *   was written) so the runner retries with backoff.
 */
import { Duration, Effect, Option } from "effect"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import { fqdnPolicyName } from "../../network/cilium.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { applyIfChanged } from "../common/apply.ts"
import { reconcileFqdnPolicy } from "../common/fqdn.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer, type SelfMeta } from "../common/self.ts"
import type { ActOutcome, AgentDecision } from "./decide.ts"
import type { ChildApply, ChildDelete } from "./plan.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while waiting for a dependency (setting LANGOP_DEPENDENCY_WAIT_REQUEUE). */
  readonly dependencyWait: Duration.Input
  /** Requeue delay of agents with DNS-derived egress (setting LANGOP_DNS_REFRESH_INTERVAL). */
  readonly dnsRefresh: Duration.Input
  /** Write Cilium FQDN policies (LANGOP_CILIUM_FQDN_POLICIES). */
  readonly ciliumFqdn: boolean
  /**
   * With usage attribution on: how often an agent's usage is read again (the model metrics scrape
   * interval, LANGOP_MODEL_METRICS_INTERVAL); undefined when attribution is off.
   */
  readonly usageRefresh?: Duration.Input | undefined
}

const reference = (a: SelfMeta) => referenceTo(Langop.LanguageAgent, a)

/** Errors that retrying the same request cannot fix: the spec (or RBAC) must change. */
const isTerminal = (e: KubeError): boolean =>
  e._tag === "Invalid" || e._tag === "Forbidden" || e._tag === "BadRequest"

const applyOne = (a: ChildApply, fieldManager: string) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    if (a.live !== undefined && a.equivalent?.(a.live) === true) return false
    const result = yield* applyIfChanged(kube, a.resource, a.object, a.live, { fieldManager })
    return result.written
  })

const deleteOne = (d: ChildDelete, namespace: string) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    yield* kube
      .delete(d.resource, { name: d.name, namespace }, { preconditions: { uid: d.uid } })
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  })

export const act = Effect.fn("languageagent.act")(function* (
  agent: SelfMeta,
  decision: AgentDecision,
  options: ActOptions,
) {
  const _kube = yield* KubeClient
  const recorder = yield* EventRecorder

  if (decision.addFinalizer) yield* addFinalizer(Langop.LanguageAgent, agent, options.fieldManager)

  let failed: ActOutcome["failed"]
  let error: KubeError | undefined
  let resizeFailed: string | undefined
  const deleted: Array<ChildDelete> = []
  const plan = decision.plan
  const namespace = agent.metadata.namespace ?? ""
  for (const step of plan?.steps ?? []) {
    if (step.conflict !== undefined) {
      failed = { step, message: step.conflict, terminal: true }
      break
    }
    const ran = yield* Effect.result(
      Effect.gen(function* () {
        for (const a of step.applies) {
          const applied = yield* Effect.result(applyOne(a, options.fieldManager))
          if (applied._tag === "Success") continue
          if (step.name === "Workspace" && plan?.workspace.resize === true && isTerminal(applied.failure)) {
            resizeFailed = `The storage request increase of PVC "${a.object.metadata.name ?? ""}" was rejected: ${describeError(applied.failure)}`
            continue
          }
          return yield* Effect.fail({ step, error: applied.failure, what: a.object })
        }
        for (const d of step.deletes) {
          const removed = yield* Effect.result(deleteOne(d, namespace))
          if (removed._tag === "Failure")
            return yield* Effect.fail({ step, error: removed.failure, what: undefined })
          deleted.push(d)
        }
      }),
    )
    if (ran._tag === "Failure") {
      const { error: e, what } = ran.failure
      const target =
        what === undefined
          ? "deleting an object"
          : `applying ${what.kind ?? ""} "${what.metadata.name ?? ""}"`
      failed = {
        step: ran.failure.step,
        message: `${target} failed: ${describeError(e)}`,
        terminal: isTerminal(e),
      }
      error = e
      break
    }
    // The Cilium FQDN policy belongs to the NetworkPolicy step: the workload starts only once both exist.
    if (step.name === "NetworkPolicy" && plan !== undefined) {
      const fqdn = yield* Effect.result(
        reconcileFqdnPolicy({ kind: "LanguageAgent", metadata: agent.metadata }, plan.egress.fqdnPolicy, {
          enabled: options.ciliumFqdn,
          fieldManager: options.fieldManager,
        }),
      )
      if (fqdn._tag === "Failure") {
        const name = fqdnPolicyName(agent.metadata.name ?? "")
        failed = {
          step,
          message: `writing CiliumNetworkPolicy "${name}" failed: ${describeError(fqdn.failure)}`,
          terminal: isTerminal(fqdn.failure),
        }
        error = fqdn.failure
        break
      }
      if (fqdn.success._tag === "Conflict") {
        failed = { step, message: fqdn.success.message, terminal: true, conflict: true }
        break
      }
    }
  }

  const finish = decision.finish({ failed, resizeFailed, deleted })
  if (finish.status.changed)
    yield* applyStatus(Langop.LanguageAgent, agent, finish.status.status, options.fieldManager)
  for (const d of deleted)
    if (d.resource === Builtin.Deployment || d.resource === Builtin.CronJob)
      yield* recorder.record({
        regarding: reference(agent),
        type: "Normal",
        reason: "WorkloadReplaced",
        action: "Reconcile",
        note: `Deleted ${d.resource.kind} "${d.name}" after the execution mode changed`,
      })
  for (const e of finish.status.events)
    yield* recorder.record({ regarding: reference(agent), action: "Reconcile", ...e })

  if (error !== undefined && failed !== undefined && !failed.terminal) return yield* Effect.fail(error)
  const after = [
    finish.requeue === "dependencyWait"
      ? options.dependencyWait
      : finish.requeue === "dnsRefresh"
        ? options.dnsRefresh
        : undefined,
    finish.refreshUsage ? options.usageRefresh : undefined,
  ].flatMap((d) => (d === undefined ? [] : Option.toArray(Duration.fromInput(d))))
  const first = after.reduce<Duration.Duration | undefined>(
    (shortest, d) => (shortest === undefined ? d : Duration.min(shortest, d)),
    undefined,
  )
  return first === undefined ? Reconciled.done : Reconciled.requeueAfter(first)
})

/** Deletion: nothing to clean beyond garbage collection (every generated object is owned) — drop the finalizer. */
export const cleanup = Effect.fn("languageagent.cleanup")(function* (
  agent: SelfMeta,
  options: Pick<ActOptions, "fieldManager">,
) {
  yield* removeFinalizer(Langop.LanguageAgent, agent, options.fieldManager)
  return Reconciled.done
})
