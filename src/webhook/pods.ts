/**
 * `/mutate/pods`: injects the sidecar tools named by an agent Pod's `langop.io/sidecar-tools`
 * annotation as native sidecars (docs/admission.md §Sidecar injection, docs/languageagent.md §Sidecars).
 *
 * Guarantees:
 * - A Pod without the annotation (or with an empty one) passes unchanged, whatever else it holds.
 * - Every problem is an answer, never a failure: a listed tool that is malformed, in another
 *   namespace (docs/concepts.md X-5), missing, not in sidecar mode, too long a name for `tool-<tool>`, whose port
 *   another container of the Pod or another listed tool declares, or whose volumes clash with the
 *   Pod's or another listed tool's volume names denies the Pod with one
 *   `<field path>: <rule>` line per problem, each naming the tool; a lookup failure denies with 500.
 * - Idempotent: entries named `tool-<tool>` (init or regular containers) are replaced, never
 *   duplicated; volumes injected earlier (known from `langop.io/injected-tools`) are replaced, not
 *   counted as clashes. A replaced init container keeps what other admission plugins added to it
 *   (ServiceAccount's token mount, LimitRanger's resources), and an entry that equals the one we
 *   would build modulo the API server's defaults is kept as it is (pods-defaults.ts), so the
 *   re-invocation on the defaulted, extended Pod yields no patch.
 * - This handler trusts the annotations; the operator serves it only behind the authorisation gate
 *   (sidecar-authorization.ts), which checks who created the Pod and that its agent lists the tools.
 * Assumptions: `lookup` answers from the informer cache (docs/admission.md; in the operator it is
 * `WebhookLookup.tool`, cache first, one live GET on a miss); it returns `undefined` for a
 * tool that does not exist. The server (server.ts) only calls this for Pod CREATE reviews, but the
 * handler checks both itself so it can be called directly.
 */
import { Effect, Result } from "effect"
import type { LanguageTool } from "../api/languagetool.ts"
import { ANNOTATION_INJECTED_TOOLS, ANNOTATION_SIDECAR_TOOLS } from "../domain/labels.ts"
import {
  AGENT_CONTAINER,
  DEFAULT_WORKSPACE_MOUNT_PATH,
  MAX_CONTAINER_NAME_LENGTH,
  parseSidecarTools,
  type SidecarRef,
  type SidecarTool,
  sidecarContainer,
  sidecarContainerName,
  sidecarPullSecrets,
  sidecarRefString,
  sidecarToolsValue,
  sidecarVolumes,
  WORKSPACE_VOLUME,
} from "../domain/sidecars.ts"
import { mergeContainer, mergeVolume } from "./pods-defaults.ts"
import { type AdmissionHandler, allow, allowWithMutation, deny, type Violation, violation } from "./review.ts"

/**
 * Resolves a LanguageTool by namespace and name: the tool, or `undefined` when it does not exist.
 * A failure (e.g. the live GET behind a cache miss failed) denies the Pod with code 500.
 */
export type ToolLookup<E = never, R = never> = (
  namespace: string,
  name: string,
) => Effect.Effect<LanguageTool | undefined, E, R>

type Obj = { readonly [key: string]: unknown }

const isObj = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const arrayAt = (obj: Obj, key: string): ReadonlyArray<unknown> => {
  const value = obj[key]
  return Array.isArray(value) ? value : []
}

const nameOf = (value: unknown): string | undefined =>
  isObj(value) && typeof value.name === "string" ? value.name : undefined

const stringAt = (obj: Obj | undefined, key: string): string | undefined => {
  const value = obj?.[key]
  return typeof value === "string" ? value : undefined
}

/** Field path of the annotation in deny messages: `metadata.annotations[langop.io/sidecar-tools]`. */
export const SIDECAR_TOOLS_PATH = ["metadata", "annotations", ANNOTATION_SIDECAR_TOOLS] as const

const toolViolation = (rule: string): Violation => violation(SIDECAR_TOOLS_PATH, rule)

/** The annotations of a Pod (only string values), or `{}`. */
const annotationsOf = (pod: Obj): Readonly<Record<string, string>> => {
  const metadata = pod.metadata
  const annotations = isObj(metadata) ? metadata.annotations : undefined
  if (!isObj(annotations)) return {}
  return Object.fromEntries(
    Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  )
}

/** Where the Pod's `agent` container mounts volume `workspace` (the spec default when it does not). */
export const workspaceMountPath = (spec: Obj): string | undefined => {
  if (!arrayAt(spec, "volumes").some((v) => nameOf(v) === WORKSPACE_VOLUME)) return undefined
  const agent = arrayAt(spec, "containers").find((c) => nameOf(c) === AGENT_CONTAINER)
  const mount = isObj(agent)
    ? arrayAt(agent, "volumeMounts").find((m) => nameOf(m) === WORKSPACE_VOLUME)
    : undefined
  return (isObj(mount) ? stringAt(mount, "mountPath") : undefined) ?? DEFAULT_WORKSPACE_MOUNT_PATH
}

/**
 * Replaces the entries `isOurs` selects by `block`, placed where the first of them was (at the end
 * when there was none). A block entry that replaces an entry of the same name goes through `merge`
 * (pods-defaults.ts), which keeps the existing value when nothing of ours changed.
 */
const spliceBlock = <T>(
  entries: ReadonlyArray<unknown>,
  isOurs: (entry: unknown) => boolean,
  block: ReadonlyArray<T>,
  merge: (existing: unknown, ours: T) => unknown,
): Array<unknown> => {
  const kept: Array<unknown> = []
  const previous = new Map<string, unknown>()
  let at: number | undefined
  for (const entry of entries) {
    if (isOurs(entry)) {
      at ??= kept.length
      const name = nameOf(entry)
      if (name !== undefined && !previous.has(name)) previous.set(name, entry)
    } else kept.push(entry)
  }
  const placed = block.map((entry) => {
    const old = previous.get(nameOf(entry) ?? "")
    return old === undefined ? entry : merge(old, entry)
  })
  kept.splice(at ?? kept.length, 0, ...placed)
  return kept
}

/**
 * Ports the listed tools would listen on twice in the Pod's network namespace: two tools on one
 * port, or a tool on a port another container of the Pod declares (our own `tool-<tool>` entries
 * from an earlier round excepted). Two listeners on one port leave one of them unable to start.
 */
const portClashes = (spec: Obj, tools: ReadonlyArray<SidecarTool>): ReadonlyArray<Violation> => {
  const ours = new Set(tools.map((t) => sidecarContainerName(t.name)))
  const podPorts = new Map<number, string>()
  for (const key of ["containers", "initContainers"])
    for (const container of arrayAt(spec, key)) {
      const name = nameOf(container) ?? ""
      if (ours.has(name) || !isObj(container)) continue
      for (const port of arrayAt(container, "ports"))
        if (isObj(port) && typeof port.containerPort === "number" && !podPorts.has(port.containerPort))
          podPorts.set(port.containerPort, name)
    }
  const problems: Array<Violation> = []
  const toolPorts = new Map<number, string>()
  for (const tool of tools) {
    const ref = sidecarRefString(tool)
    const container = podPorts.get(tool.spec.port)
    const other = toolPorts.get(tool.spec.port)
    if (container !== undefined)
      problems.push(
        toolViolation(
          `LanguageTool ${ref} listens on port ${tool.spec.port}, which the Pod's container "${container}" declares (SidecarPortConflict)`,
        ),
      )
    else if (other !== undefined)
      problems.push(
        toolViolation(
          `LanguageTool ${ref} and LanguageTool ${other} both listen on port ${tool.spec.port} (SidecarPortConflict)`,
        ),
      )
    else toolPorts.set(tool.spec.port, ref)
  }
  return problems
}

/**
 * The pure injection: `pod` with every tool of `tools` (resolved, same namespace, sidecar mode, in
 * annotation order) injected, or the port and volume clashes that forbid it.
 */
export const injectSidecars = (
  pod: Obj,
  spec: Obj,
  tools: ReadonlyArray<SidecarTool>,
): Result.Result<Obj, ReadonlyArray<Violation>> => {
  const annotations = annotationsOf(pod)
  const injectedBefore = new Set(
    parseSidecarTools(annotations[ANNOTATION_INJECTED_TOOLS]).refs.map(sidecarRefString),
  )

  // Volumes a previous run injected for these tools are ours to replace, not the Pod's own.
  const ownedBefore = new Set(
    tools
      .filter((t) => injectedBefore.has(sidecarRefString(t)))
      .flatMap((t) => sidecarVolumes(t).map((v) => v.name)),
  )
  const podVolumes = arrayAt(spec, "volumes")
  const isOwnedVolume = (v: unknown) => ownedBefore.has(nameOf(v) ?? "")
  const podVolumeNames = new Set(podVolumes.filter((v) => !isOwnedVolume(v)).flatMap((v) => nameOf(v) ?? []))

  const problems: Array<Violation> = [...portClashes(spec, tools)]
  const toolVolumeOwner = new Map<string, string>()
  for (const tool of tools) {
    const ref = sidecarRefString(tool)
    for (const volume of sidecarVolumes(tool)) {
      const other = toolVolumeOwner.get(volume.name)
      if (podVolumeNames.has(volume.name))
        problems.push(
          toolViolation(
            `volume "${volume.name}" of LanguageTool ${ref} clashes with the Pod's volume "${volume.name}" (SidecarVolumeConflict)`,
          ),
        )
      else if (other !== undefined && other !== ref)
        problems.push(
          toolViolation(
            `volume "${volume.name}" of LanguageTool ${ref} clashes with volume "${volume.name}" of LanguageTool ${other} (SidecarVolumeConflict)`,
          ),
        )
      else toolVolumeOwner.set(volume.name, ref)
    }
  }
  if (problems.length > 0) return Result.fail(problems)

  const ownNames = new Set(tools.map((t) => sidecarContainerName(t.name)))
  const isOurContainer = (c: unknown) => ownNames.has(nameOf(c) ?? "")
  const withoutOwnVolumes = { ...spec, volumes: podVolumes.filter((v) => !isOwnedVolume(v)) }
  const mountPath = workspaceMountPath(withoutOwnVolumes)
  const sidecars = tools.map((t) => sidecarContainer(t, mountPath))

  const initContainers = spliceBlock(
    arrayAt(spec, "initContainers"),
    isOurContainer,
    sidecars,
    mergeContainer,
  )
  const containers = arrayAt(spec, "containers")
  const volumes = spliceBlock(podVolumes, isOwnedVolume, tools.flatMap(sidecarVolumes), mergeVolume)
  const pullSecrets = [...arrayAt(spec, "imagePullSecrets")]
  const secretNames = new Set(pullSecrets.flatMap((s) => nameOf(s) ?? []))
  for (const secret of tools.flatMap(sidecarPullSecrets)) {
    if (secret.name === undefined || secretNames.has(secret.name)) continue
    secretNames.add(secret.name)
    pullSecrets.push(secret)
  }

  const metadata = isObj(pod.metadata) ? pod.metadata : {}
  const rawAnnotations = isObj(metadata.annotations) ? metadata.annotations : {}
  return Result.succeed({
    ...pod,
    metadata: {
      ...metadata,
      annotations: { ...rawAnnotations, [ANNOTATION_INJECTED_TOOLS]: sidecarToolsValue(tools) },
    },
    spec: {
      ...spec,
      initContainers,
      ...(containers.some(isOurContainer)
        ? { containers: containers.filter((c) => !isOurContainer(c)) }
        : {}),
      ...(volumes.length > 0 || spec.volumes !== undefined ? { volumes } : {}),
      ...(pullSecrets.length > 0 || spec.imagePullSecrets !== undefined
        ? { imagePullSecrets: pullSecrets }
        : {}),
    },
  })
}

/** Whether a resolved tool may be injected into a Pod; the violations naming it otherwise. */
const checkTool = (ref: SidecarRef, tool: LanguageTool | undefined): ReadonlyArray<Violation> => {
  const name = sidecarRefString(ref)
  if (tool === undefined) return [toolViolation(`LanguageTool ${name} not found (ToolNotFound)`)]
  const problems: Array<Violation> = []
  if (tool.spec.deploymentMode !== "sidecar")
    problems.push(
      toolViolation(
        `LanguageTool ${name} is not in sidecar mode (deploymentMode: ${tool.spec.deploymentMode})`,
      ),
    )
  if (sidecarContainerName(ref.name).length > MAX_CONTAINER_NAME_LENGTH)
    problems.push(
      toolViolation(
        `LanguageTool ${name}: container name ${sidecarContainerName(ref.name)} is longer than ${MAX_CONTAINER_NAME_LENGTH} characters`,
      ),
    )
  return problems
}

const describeError = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (isObj(error) && typeof error.message === "string") return error.message
  return String(error)
}

/**
 * The `/mutate/pods` handler. `lookup` resolves LanguageTools (see {@link ToolLookup}); the handler
 * looks up every listed tool of the Pod's namespace, concurrently.
 */
export const mutatePod =
  <E, R>(lookup: ToolLookup<E, R>): AdmissionHandler<R> =>
  (request) =>
    Effect.gen(function* () {
      if (request.operation !== "CREATE") return allow(request)
      const pod = request.object
      if (!isObj(pod)) return deny(request, [violation("object", "expected a Pod object")], { code: 400 })
      const listed = annotationsOf(pod)[ANNOTATION_SIDECAR_TOOLS]
      const parsed = parseSidecarTools(listed)
      if (parsed.refs.length === 0 && parsed.problems.length === 0) return allow(request)

      const spec = pod.spec
      const metadata = isObj(pod.metadata) ? pod.metadata : undefined
      const namespace = request.namespace ?? stringAt(metadata, "namespace") ?? ""
      const problems: Array<Violation> = parsed.problems.map(toolViolation)
      if (!isObj(spec)) problems.push(violation("spec", "expected a Pod spec object"))
      if (namespace === "") problems.push(violation("metadata.namespace", "the Pod has no namespace"))
      const local = parsed.refs.filter((ref) => {
        if (namespace === "" || ref.namespace === namespace) return true
        problems.push(
          toolViolation(
            `LanguageTool ${sidecarRefString(ref)} is in another namespace than the Pod (${namespace}); sidecar tools must be in the Pod's namespace (CrossNamespaceSidecarUnsupported)`,
          ),
        )
        return false
      })

      const resolved = yield* Effect.forEach(
        local,
        (ref) => Effect.result(lookup(ref.namespace, ref.name)).pipe(Effect.map((found) => ({ ref, found }))),
        { concurrency: "unbounded" },
      )
      const failures: Array<Violation> = []
      const tools: Array<SidecarTool> = []
      for (const { ref, found } of resolved) {
        if (Result.isFailure(found)) {
          failures.push(
            toolViolation(
              `LanguageTool ${sidecarRefString(ref)} could not be read: ${describeError(found.failure)}`,
            ),
          )
          continue
        }
        const toolProblems = checkTool(ref, found.success)
        problems.push(...toolProblems)
        if (toolProblems.length === 0 && found.success !== undefined)
          tools.push({ name: ref.name, namespace: ref.namespace, spec: found.success.spec })
      }
      if (failures.length > 0)
        return deny(request, [...failures, ...problems], { code: 500, reason: "InternalError" })
      if (problems.length > 0 || !isObj(spec)) return deny(request, problems)

      const injected = injectSidecars(pod, spec, tools)
      if (Result.isFailure(injected)) return deny(request, injected.failure)
      return allowWithMutation(request, pod, injected.success)
    })
