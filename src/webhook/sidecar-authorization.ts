/**
 * Who may have sidecar tools injected: the gate in front of the injection (pods.ts).
 *
 * Annotations are not proof of anything: whoever can write a Pod, a Deployment's template, or an
 * agent's `podAnnotations` can write `langop.io/sidecar-tools` and `langop.io/injected-tools`. So
 * the Pod webhook injects a listed tool only when the list is backed by the two things a user
 * cannot forge:
 * - the Pod's creator, as the API server authenticated it: the ReplicaSet or Job controller (the
 *   agent's Deployment or CronJob made the Pod), never a user creating Pods directly;
 * - the agent's live spec (informer cache): the Pod's agent (`app.kubernetes.io/name`) exists in
 *   the Pod's namespace and every listed tool is one of its enabled `toolRefs` that
 *   `safetyConfig.blockedTools` does not block — the same tools the agent controller lists and
 *   merges into the agent's egress NetworkPolicy.
 * `langop.io/injected-tools` (written by this webhook) may only name listed, authorised tools.
 *
 * Why the live spec rather than a signature over the list: a signature proves that the operator
 * wrote the list once, and stays valid after the user blocks or removes the tool (old ReplicaSets
 * keep their templates); the spec is checked at each Pod creation, so blocking a tool takes effect
 * for every Pod created afterwards, and there is no key to store, share between replicas or rotate.
 *
 * Why deny rather than admit without the sidecars: a Pod carrying marks it is not entitled to is a
 * forgery or a stale template; admitting it would start an agent that lacks the tools its
 * configuration lists, failing later and far from the cause. The deny message names the entry and
 * the rule, and reaches the user as the ReplicaSet's or Job's FailedCreate event.
 *
 * Guarantees: pure decisions ({@link authorizationViolations}) plus one agent lookup; a lookup
 * failure denies with code 500; Pods without either annotation are never looked at.
 */
import { Effect, Result } from "effect"
import type { LanguageAgent } from "../api/languageagent.ts"
import { ANNOTATION_INJECTED_TOOLS, ANNOTATION_SIDECAR_TOOLS, LABEL_NAME } from "../domain/labels.ts"
import { parseSidecarTools, type SidecarRef, sidecarRefString } from "../domain/sidecars.ts"
import { type AdmissionHandler, type AdmissionRequest, deny, type Violation, violation } from "./review.ts"

/**
 * The identities that create agent Pods from the operator's workloads: kube-controller-manager's
 * ReplicaSet and Job controllers under their own service accounts (`--use-service-account-credentials`,
 * what kubeadm and the managed offerings run), or under the controller manager's identity otherwise.
 */
export const TRUSTED_POD_CREATORS: ReadonlySet<string> = new Set([
  "system:serviceaccount:kube-system:replicaset-controller",
  "system:serviceaccount:kube-system:job-controller",
  "system:kube-controller-manager",
])

type Obj = { readonly [key: string]: unknown }

const isObj = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const stringMap = (value: unknown): Readonly<Record<string, string>> =>
  isObj(value)
    ? Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      )
    : {}

/** `<namespace>/<tool>` of every enabled, unblocked toolRef of the agent (ref namespace defaulted). */
export const authorizedSidecars = (agent: LanguageAgent): ReadonlySet<string> => {
  const namespace = agent.metadata.namespace ?? ""
  const blocked = new Set(agent.spec.safetyConfig?.blockedTools ?? [])
  const out = new Set<string>()
  for (const ref of agent.spec.toolRefs ?? []) {
    if (!ref.enabled || blocked.has(ref.name)) continue
    const ns = ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : namespace
    out.add(sidecarRefString({ namespace: ns, name: ref.name }))
  }
  return out
}

const SIDECAR_PATH = ["metadata", "annotations", ANNOTATION_SIDECAR_TOOLS] as const
const INJECTED_PATH = ["metadata", "annotations", ANNOTATION_INJECTED_TOOLS] as const

/** What the gate reads from a Pod CREATE review. */
export interface GateInput {
  readonly request: AdmissionRequest
  /** The Pod's namespace. */
  readonly namespace: string
  /** The agent named by the Pod's `app.kubernetes.io/name` label (undefined: none, or not found). */
  readonly agentName: string | undefined
  readonly agent: LanguageAgent | undefined
  readonly listed: ReadonlyArray<SidecarRef>
  readonly injected: ReadonlyArray<SidecarRef>
}

/** Every reason the Pod's sidecar marks are not backed by its creator and its agent. Pure. */
export const authorizationViolations = (input: GateInput): ReadonlyArray<Violation> => {
  const marks = input.listed.length > 0 ? SIDECAR_PATH : INJECTED_PATH
  const creator = input.request.userInfo?.username ?? ""
  if (!TRUSTED_POD_CREATORS.has(creator))
    return [
      violation(
        marks,
        `sidecar tools are injected only into Pods that the ReplicaSet or Job controller creates from a LanguageAgent's Deployment or CronJob; this Pod was created by ${creator === "" ? "an unknown user" : `"${creator}"`}: remove the langop.io/ annotations (SidecarNotAuthorized)`,
      ),
    ]
  if (input.agentName === undefined)
    return [
      violation(
        ["metadata", "labels", LABEL_NAME],
        `is missing: the Pod names no LanguageAgent, so its sidecar tools cannot be authorised (SidecarNotAuthorized)`,
      ),
    ]
  const agentKey = `${input.namespace}/${input.agentName}`
  if (input.agent === undefined)
    return [
      violation(
        marks,
        `LanguageAgent ${agentKey} (the Pod's ${LABEL_NAME} label) does not exist, so no sidecar tool is authorised (SidecarNotAuthorized)`,
      ),
    ]
  const authorized = authorizedSidecars(input.agent)
  const problems: Array<Violation> = []
  for (const ref of input.listed)
    if (!authorized.has(sidecarRefString(ref)))
      problems.push(
        violation(
          SIDECAR_PATH,
          `LanguageTool ${sidecarRefString(ref)} is not an enabled, unblocked toolRef of LanguageAgent ${agentKey}; only the agent's own tools are injected (SidecarNotAuthorized)`,
        ),
      )
  const listed = new Set(input.listed.map(sidecarRefString))
  for (const ref of input.injected)
    if (!listed.has(sidecarRefString(ref)) || !authorized.has(sidecarRefString(ref)))
      problems.push(
        violation(
          INJECTED_PATH,
          `names LanguageTool ${sidecarRefString(ref)}, which this Pod's authorised ${ANNOTATION_SIDECAR_TOOLS} does not list; ${ANNOTATION_INJECTED_TOOLS} is written by the operator only (SidecarNotAuthorized)`,
        ),
      )
  return problems
}

/** Resolves a LanguageAgent by namespace and name (`undefined`: it does not exist). */
export type AgentLookup<E = never, R = never> = (
  namespace: string,
  name: string,
) => Effect.Effect<LanguageAgent | undefined, E, R>

const describeError = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (isObj(error) && typeof error.message === "string") return error.message
  return String(error)
}

/**
 * `inject` (the injection handler) behind the gate: a Pod CREATE carrying either mark reaches it only
 * when {@link authorizationViolations} finds nothing; any other request goes straight through.
 */
export const authorizeSidecars =
  <E, R, R2>(agentLookup: AgentLookup<E, R>, inject: AdmissionHandler<R2>): AdmissionHandler<R | R2> =>
  (request) =>
    Effect.gen(function* () {
      const pod = request.object
      if (request.operation !== "CREATE" || !isObj(pod)) return yield* inject(request)
      const metadata = isObj(pod.metadata) ? pod.metadata : {}
      const annotations = stringMap(metadata.annotations)
      const listed = parseSidecarTools(annotations[ANNOTATION_SIDECAR_TOOLS])
      const injected = parseSidecarTools(annotations[ANNOTATION_INJECTED_TOOLS])
      if (listed.refs.length === 0 && injected.refs.length === 0) return yield* inject(request)

      const namespace =
        request.namespace ?? (typeof metadata.namespace === "string" ? metadata.namespace : "")
      const label = stringMap(metadata.labels)[LABEL_NAME]
      const agentName = label === undefined || label === "" ? undefined : label
      const trusted = TRUSTED_POD_CREATORS.has(request.userInfo?.username ?? "")
      const found =
        trusted && agentName !== undefined && namespace !== ""
          ? yield* Effect.result(agentLookup(namespace, agentName))
          : Result.succeed(undefined)
      if (Result.isFailure(found))
        return deny(
          request,
          [
            violation(
              SIDECAR_PATH,
              `LanguageAgent ${namespace}/${agentName ?? ""} could not be read to authorise the sidecar tools: ${describeError(found.failure)}`,
            ),
          ],
          { code: 500, reason: "InternalError" },
        )
      const problems = authorizationViolations({
        request,
        namespace,
        agentName,
        agent: found.success,
        listed: listed.refs,
        injected: injected.refs,
      })
      if (problems.length > 0) return deny(request, problems, { code: 403, reason: "Forbidden" })
      return yield* inject(request)
    })
