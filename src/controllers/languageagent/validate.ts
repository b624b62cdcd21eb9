/**
 * Static validation of a LanguageAgent (languageagent.md §Validation, README §3, X-3). PURE.
 *
 * The validating webhook denies the same rules (it can reuse {@link validateAgent}); the controller
 * re-checks them for objects stored without the webhook. Every problem is one `ValidationIssue` with a
 * field path; the condition reason of a failed validation is the most specific reason present
 * ({@link validationReason}).
 *
 * Decision: malformed `spec.egress` rules are NOT validation failures here. README §9 requires the
 * controller to handle them (skip the rule, `EgressResolved=False`) so a stored object with a bad rule
 * keeps running fail-closed; the egress builder reports them.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import { cronProblem } from "./cron.ts"
import {
  CONFIG_DIR,
  CONFIG_VOLUME,
  KNOWLEDGE_VOLUME_PATTERN,
  MAX_CRONJOB_NAME_LENGTH,
  MAX_NAME_LENGTH,
  Reasons,
  WORKSPACE_VOLUME,
} from "./names.ts"

export type ValidationReason =
  | typeof Reasons.InvalidName
  | typeof Reasons.ReservedVolumeName
  | typeof Reasons.CrossNamespaceSecretUnsupported
  | typeof Reasons.InvalidSpec

export interface ValidationIssue {
  readonly reason: ValidationReason
  readonly path: string
  readonly message: string
}

/** Most specific first: the reason the `Ready` condition reports when several kinds of issue exist. */
const REASON_ORDER: ReadonlyArray<ValidationReason> = [
  Reasons.InvalidName,
  Reasons.ReservedVolumeName,
  Reasons.CrossNamespaceSecretUnsupported,
  Reasons.InvalidSpec,
]

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/u
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u
const KIND_OR_KIND_NAME = /^[A-Za-z][A-Za-z0-9]*(\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$/u

/** Whether the agent's mode creates Service `<name>` (interactive, or event-driven with a webhook trigger). */
export const needsService = (agent: LanguageAgent): boolean =>
  agent.spec.executionMode === "interactive" ||
  (agent.spec.executionMode === "event-driven" &&
    (agent.spec.eventTriggers ?? []).some((t) => t.type === "webhook"))

/** Workspace present and enabled (AG-5: an omitted workspace means none). */
export const workspaceEnabled = (agent: LanguageAgent): boolean => agent.spec.workspace?.enabled === true

const issue = (reason: ValidationReason, path: string, message: string): ValidationIssue => ({
  reason,
  path,
  message,
})

const nameIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => {
  const name = agent.metadata.name ?? ""
  const out: Array<ValidationIssue> = []
  if (name.length > MAX_NAME_LENGTH || !LABEL_VALUE.test(name))
    out.push(
      issue(
        Reasons.InvalidName,
        "metadata.name",
        `must be at most ${MAX_NAME_LENGTH} characters and a valid label value (it becomes app.kubernetes.io/name)`,
      ),
    )
  if (agent.spec.executionMode === "scheduled" && name.length > MAX_CRONJOB_NAME_LENGTH)
    out.push(
      issue(
        Reasons.InvalidName,
        "metadata.name",
        `must be at most ${MAX_CRONJOB_NAME_LENGTH} characters for a scheduled agent (CronJob name limit)`,
      ),
    )
  if (needsService(agent) && (name.length > MAX_NAME_LENGTH || !DNS1035_LABEL.test(name)))
    out.push(
      issue(
        Reasons.InvalidName,
        "metadata.name",
        "must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters) because the agent gets Service <name>",
      ),
    )
  return out
}

const scheduleIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => {
  const schedule = agent.spec.schedule
  if (agent.spec.executionMode !== "scheduled" || schedule === undefined || schedule.trim() === "") return []
  const problem = cronProblem(schedule)
  return problem === undefined
    ? []
    : [
        issue(
          Reasons.InvalidSpec,
          "spec.schedule",
          `${JSON.stringify(schedule)} is not a valid schedule: ${problem}`,
        ),
      ]
}

const hasHost = (url: string): boolean => {
  if (!URL.canParse(url)) return false
  return new URL(url).hostname !== ""
}

const triggerIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> =>
  (agent.spec.eventTriggers ?? []).flatMap((t, i): ReadonlyArray<ValidationIssue> => {
    const path = `spec.eventTriggers[${i}].source`
    const source = t.source ?? ""
    switch (t.type) {
      case "schedule": {
        if (source.trim() === "") return [issue(Reasons.InvalidSpec, path, "required for a schedule trigger")]
        const problem = cronProblem(source)
        return problem === undefined
          ? []
          : [
              issue(
                Reasons.InvalidSpec,
                path,
                `${JSON.stringify(source)} is not a valid schedule: ${problem}`,
              ),
            ]
      }
      case "message-queue":
        if (source === "")
          return [issue(Reasons.InvalidSpec, path, "required for a message-queue trigger (broker URL)")]
        return hasHost(source)
          ? []
          : [issue(Reasons.InvalidSpec, path, `${JSON.stringify(source)} is not a URL with a host`)]
      case "webhook":
        return source === "" || source.startsWith("/")
          ? []
          : [issue(Reasons.InvalidSpec, path, `${JSON.stringify(source)} must start with "/"`)]
      case "kubernetes-event":
        return source === "" || KIND_OR_KIND_NAME.test(source)
          ? []
          : [issue(Reasons.InvalidSpec, path, `${JSON.stringify(source)} must be Kind or Kind/name`)]
      default:
        return []
    }
  })

const safetyIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> =>
  (agent.spec.safetyConfig?.contentFilters ?? []).flatMap((f, i) =>
    f.type === "custom" && (f.pattern ?? "").trim() === ""
      ? [
          issue(
            Reasons.InvalidSpec,
            `spec.safetyConfig.contentFilters[${i}].pattern`,
            "required for type custom",
          ),
        ]
      : [],
  )

const memoryIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => {
  const store = agent.spec.memoryStore
  if (store === undefined || store.type === "ephemeral") return []
  const ref = store.connectionSecretRef
  if (ref === undefined)
    return [
      issue(
        Reasons.InvalidSpec,
        "spec.memoryStore.connectionSecretRef",
        `required for memory store type ${store.type}`,
      ),
    ]
  const namespace = agent.metadata.namespace ?? ""
  if (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace)
    return [
      issue(
        Reasons.CrossNamespaceSecretUnsupported,
        "spec.memoryStore.connectionSecretRef.namespace",
        `pods can only read Secrets of their own namespace "${namespace}", not "${ref.namespace}"`,
      ),
    ]
  return []
}

const referenceIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => {
  const namespace = agent.metadata.namespace ?? ""
  const dupes = (
    refs: ReadonlyArray<{ readonly name: string; readonly namespace?: string | undefined }>,
    field: string,
  ) => {
    const seen = new Set<string>()
    return refs.flatMap((r, i) => {
      const key = `${r.namespace !== undefined && r.namespace !== "" ? r.namespace : namespace}/${r.name}`
      if (seen.has(key))
        return [issue(Reasons.InvalidSpec, `spec.${field}[${i}]`, `duplicate reference to "${key}"`)]
      seen.add(key)
      return []
    })
  }
  return [...dupes(agent.spec.modelRefs, "modelRefs"), ...dupes(agent.spec.toolRefs ?? [], "toolRefs")]
}

const volumeIssues = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => {
  const reserved = (agent.spec.volumes ?? []).flatMap((v, i) =>
    v.name === WORKSPACE_VOLUME || v.name === CONFIG_VOLUME || KNOWLEDGE_VOLUME_PATTERN.test(v.name)
      ? [
          issue(
            Reasons.ReservedVolumeName,
            `spec.volumes[${i}].name`,
            `"${v.name}" is reserved for the operator (workspace, agent-config, knowledge-<n>)`,
          ),
        ]
      : [],
  )
  const workspacePath = workspaceEnabled(agent) ? agent.spec.workspace?.mountPath : undefined
  const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/u, "") : p)
  const mounts = (agent.spec.volumeMounts ?? []).flatMap((m, i) => {
    const path = trim(m.mountPath)
    if (path === CONFIG_DIR)
      return [
        issue(
          Reasons.InvalidSpec,
          `spec.volumeMounts[${i}].mountPath`,
          `${CONFIG_DIR} is where the operator mounts the agent configuration`,
        ),
      ]
    if (workspacePath !== undefined && path === trim(workspacePath))
      return [
        issue(
          Reasons.InvalidSpec,
          `spec.volumeMounts[${i}].mountPath`,
          `${workspacePath} is the workspace mount path`,
        ),
      ]
    return []
  })
  return [...reserved, ...mounts]
}

/** Every static problem of the agent, in field order. Empty = valid. */
export const validateAgent = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> => [
  ...nameIssues(agent),
  ...scheduleIssues(agent),
  ...triggerIssues(agent),
  ...safetyIssues(agent),
  ...memoryIssues(agent),
  ...referenceIssues(agent),
  ...volumeIssues(agent),
]

/** The condition reason for a non-empty issue list. */
export const validationReason = (issues: ReadonlyArray<ValidationIssue>): ValidationReason =>
  REASON_ORDER.find((r) => issues.some((i) => i.reason === r)) ?? Reasons.InvalidSpec

/** `path: message` lines joined by "; " (the condition message). */
export const validationMessage = (issues: ReadonlyArray<ValidationIssue>): string =>
  issues.map((i) => `${i.path}: ${i.message}`).join("; ")
