/**
 * Carries out a LanguageTool plan against the API server.
 *
 * Guarantees: children are written by server-side apply (forced, under the configured field manager)
 * only when they differ from the live object (common/apply.ts); deletions carry a uid precondition and
 * touch only children we control; the finalizer is added by JSON patch with a resourceVersion test;
 * status is written through the status subresource only when it changed, computed from the Deployment as
 * stored after the writes. Every child is attempted even if an earlier one failed; failures are reported
 * in status (`<Object>Error`) and then fail the reconcile so the runner retries with backoff.
 */
import { Duration, Effect } from "effect"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import { Langop } from "../../kube/resources.ts"
import { fqdnPolicyName } from "../../network/cilium.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { applyIfChanged } from "../common/apply.ts"
import { reconcileFqdnPolicy } from "../common/fqdn.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer, type SelfMeta } from "../common/self.ts"
import { ROLE_RESOURCE, type Role, type ToolInput, type ToolPlan } from "./decide.ts"
import { decideStatus, type Observed } from "./status.ts"
import type { DeploymentView } from "./workload.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while waiting for the LanguageCluster (LANGOP_DEPENDENCY_WAIT_REQUEUE). */
  readonly dependencyWait: Duration.Input
  /** Requeue delay when the egress policy has DNS-derived peers (LANGOP_DNS_REFRESH_INTERVAL). */
  readonly dnsRefresh: Duration.Input
  /** Requeue delay while MCP tool discovery is active (10 minutes). */
  readonly rediscoverAfter?: Duration.Input | undefined
  /** Write Cilium FQDN policies (LANGOP_CILIUM_FQDN_POLICIES). */
  readonly ciliumFqdn: boolean
}

const reference = (t: SelfMeta) => referenceTo(Langop.LanguageTool, t)

export const act = Effect.fn("languagetool.act")(function* (
  input: ToolInput,
  plan: ToolPlan,
  options: ActOptions,
) {
  const kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { tool } = input

  if (plan.addFinalizer) yield* addFinalizer(Langop.LanguageTool, tool, options.fieldManager)

  const errors: Array<{ role: Role; message: string; error: KubeError }> = []
  let deployment: DeploymentView | undefined = input.live.deployment as DeploymentView | undefined
  if (plan._tag === "Reconcile") {
    for (const child of plan.apply) {
      const written = yield* Effect.result(
        applyIfChanged(kube, ROLE_RESOURCE[child.role], child.desired, child.live, {
          fieldManager: options.fieldManager,
        }),
      )
      if (written._tag === "Failure")
        errors.push({
          role: child.role,
          message: `applying ${child.desired.kind} "${child.desired.metadata.name ?? ""}" failed: ${describeError(written.failure)}`,
          error: written.failure,
        })
      else if (child.role === "deployment") deployment = written.success.object as DeploymentView
    }
    for (const child of plan.delete) {
      const deleted = yield* Effect.result(
        kube
          .delete(
            ROLE_RESOURCE[child.role],
            { namespace: tool.metadata.namespace, name: child.name },
            child.uid !== undefined ? { preconditions: { uid: child.uid } } : {},
          )
          .pipe(Effect.catchTag("NotFound", () => Effect.void)),
      )
      if (deleted._tag === "Failure")
        errors.push({
          role: child.role,
          message: `deleting ${ROLE_RESOURCE[child.role].kind} "${child.name}" failed: ${describeError(deleted.failure)}`,
          error: deleted.failure,
        })
      else if (child.role === "deployment") deployment = undefined
    }
  }
  // The Cilium FQDN policy follows the NetworkPolicy: wanted only in service mode (input.egress).
  const conflicts: Array<{ role: Role; message: string }> = []
  if (plan._tag === "Reconcile") {
    const fqdn = yield* Effect.result(
      reconcileFqdnPolicy(tool, input.egress?.fqdnPolicy, {
        enabled: options.ciliumFqdn,
        fieldManager: options.fieldManager,
      }),
    )
    if (fqdn._tag === "Failure")
      errors.push({
        role: "networkPolicy",
        message: `writing CiliumNetworkPolicy "${fqdnPolicyName(tool.metadata.name ?? "")}" failed: ${describeError(fqdn.failure)}`,
        error: fqdn.failure,
      })
    else if (fqdn.success._tag === "Conflict")
      conflicts.push({ role: "networkPolicy", message: fqdn.success.message })
  }

  const observed: Observed = {
    deployment,
    errors: errors.map(({ role, message }) => ({ role, message })),
    conflicts,
  }
  const outcome = decideStatus(input, plan, observed)
  if (outcome.statusChanged)
    yield* applyStatus(Langop.LanguageTool, tool, outcome.status, options.fieldManager)
  for (const e of outcome.events)
    yield* recorder.record({ regarding: reference(tool), action: "Reconcile", ...e })

  const first = errors[0]
  if (first !== undefined) return yield* Effect.fail(first.error)
  if (plan._tag === "Blocked")
    return plan.wait ? Reconciled.requeueAfter(options.dependencyWait) : Reconciled.done
  const delays = [
    ...(plan.requeueDns ? [Duration.fromInputUnsafe(options.dnsRefresh)] : []),
    ...(plan.rediscover ? [Duration.fromInputUnsafe(options.rediscoverAfter ?? "10 minutes")] : []),
  ]
  const soonest = delays.reduce<Duration.Duration | undefined>(
    (a, d) => (a === undefined ? d : Duration.min(a, d)),
    undefined,
  )
  return soonest === undefined ? Reconciled.done : Reconciled.requeueAfter(soonest)
})

/** Deletion: nothing to clean up beyond garbage collection (docs/concepts.md §5); drop the finalizer. */
export const cleanup = Effect.fn("languagetool.cleanup")(function* (tool: SelfMeta, fieldManager: string) {
  yield* removeFinalizer(Langop.LanguageTool, tool, fieldManager)
  return Reconciled.done
})
