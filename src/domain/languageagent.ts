/**
 * LanguageAgent validation rules that need no other object, used by the admission webhook (which
 * denies them) and by the controller (which reports them, mapped to condition reasons, for objects
 * stored without the webhook), so the two can never disagree. Pure.
 */
import type { LanguageAgent } from "../api/languageagent.ts"
import { cronScheduleProblem } from "./cron.ts"
import { EgressRules, egressFindings } from "./egress.ts"
import { effectiveName, isDns1035Label, isDns1123Subdomain, MAX_LABEL_LENGTH } from "./names.ts"
import { CommonRules, defineRules, type Finding, finding, secretNamespaceFindings } from "./rules.ts"

export const AgentRules = defineRules("languageagent", {
  nameLength: {
    severity: "deny",
    text: "metadata.name is at most 63 characters (the app.kubernetes.io/name label of every generated object)",
  },
  nameService: {
    severity: "deny",
    text: "interactive agents, and event-driven agents with a webhook trigger, get Service <name>: the name is a DNS-1035 label",
  },
  nameScheduled: {
    severity: "deny",
    text: "a scheduled agent's name is at most 52 characters (CronJob <name>)",
  },
  schedule: {
    severity: "deny",
    text: "in scheduled mode a non-empty schedule is one a Kubernetes CronJob accepts (five cron fields, an @-descriptor or @every <duration>; no TZ=/CRON_TZ= prefix)",
  },
  scheduleEmpty: { severity: "warn", text: "a scheduled agent without schedule runs hourly (0 * * * *)" },
  triggerSchedule: {
    severity: "deny",
    text: "a schedule trigger has a source that is a valid cron expression",
  },
  triggerMessageQueue: {
    severity: "deny",
    text: "a message-queue trigger has a source that is a URL with a host",
  },
  triggerWebhook: { severity: "deny", text: "a webhook trigger's source, if set, starts with /" },
  triggerKubernetesEvent: {
    severity: "deny",
    text: "a kubernetes-event trigger's source, if set, is Kind or Kind/name",
  },
  triggersIgnored: { severity: "warn", text: "eventTriggers only apply in event-driven mode" },
  contentFilterPattern: { severity: "deny", text: "a custom content filter has a non-empty pattern" },
  memoryStoreSecret: {
    severity: "deny",
    text: "memory stores of type redis, postgres and s3 have a connectionSecretRef",
  },
  duplicateModel: { severity: "deny", text: "modelRefs has no duplicate (same name and namespace)" },
  duplicateTool: { severity: "deny", text: "toolRefs has no duplicate (same name and namespace)" },
  reservedVolume: {
    severity: "deny",
    text: "volumes are not named workspace, agent-config or knowledge-<n> (ReservedVolumeName)",
  },
  reservedMountPath: {
    severity: "deny",
    text: "volumeMounts do not use the workspace mount path or /etc/langop/agent",
  },
  crossNamespaceSidecar: {
    severity: "deny",
    text: "a tool in another namespace is not in sidecar mode (CrossNamespaceSidecarUnsupported, docs/concepts.md X-5)",
  },
  sharedWorkspace: {
    severity: "warn",
    text: "more than one replica with a ReadWriteOnce workspace: pods on other nodes stay Pending (docs/languageagent.md AG-15)",
  },
})

/** All rules this kind's webhook applies (for documentation and the coverage test). */
export const agentRuleCatalog = [
  ...Object.values(AgentRules),
  ...Object.values(EgressRules),
  ...Object.values(CommonRules),
]

export const AGENT_CONFIG_MOUNT_PATH = "/etc/langop/agent"
export const MAX_CRONJOB_NAME_LENGTH = 52
const RESERVED_VOLUME = /^(workspace|agent-config|knowledge-[0-9]+)$/u
const KIND_OR_KIND_NAME = /^[A-Za-z][A-Za-z0-9]*(\/.+)?$/u

const normalisePath = (p: string) => (p.length > 1 ? p.replace(/\/+$/u, "") : p)

/** Whether the agent's mode creates Service `<name>` (interactive, or event-driven with a webhook trigger). */
export const needsService = (spec: LanguageAgent["spec"]): boolean =>
  spec.executionMode === "interactive" ||
  (spec.executionMode === "event-driven" && (spec.eventTriggers ?? []).some((t) => t.type === "webhook"))

const nameFindings = (agent: LanguageAgent): ReadonlyArray<Finding> => {
  const name = effectiveName(agent.metadata)
  if (name === undefined) return []
  const out: Array<Finding> = []
  if (name.length > MAX_LABEL_LENGTH)
    out.push(finding(AgentRules.nameLength, "metadata.name", `"${name}" is longer than 63 characters`))
  else if (needsService(agent.spec) && !isDns1035Label(name))
    out.push(
      finding(
        AgentRules.nameService,
        "metadata.name",
        `"${name}" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter) because ${agent.spec.executionMode} agents get a Service of that name`,
      ),
    )
  if (agent.spec.executionMode === "scheduled" && name.length > MAX_CRONJOB_NAME_LENGTH)
    out.push(
      finding(
        AgentRules.nameScheduled,
        "metadata.name",
        `"${name}" is longer than ${MAX_CRONJOB_NAME_LENGTH} characters, the limit for a scheduled agent's CronJob`,
      ),
    )
  return out
}

const scheduleFindings = (spec: LanguageAgent["spec"]): ReadonlyArray<Finding> => {
  if (spec.executionMode !== "scheduled") return []
  const schedule = spec.schedule?.trim() ?? ""
  if (schedule === "")
    return [finding(AgentRules.scheduleEmpty, "spec.schedule", "is empty: the agent runs hourly (0 * * * *)")]
  const problem = cronScheduleProblem(schedule)
  return problem === undefined
    ? []
    : [
        finding(
          AgentRules.schedule,
          "spec.schedule",
          `"${schedule}" is not a schedule a Kubernetes CronJob accepts: ${problem}`,
        ),
      ]
}

const hasHost = (url: string): boolean => URL.canParse(url) && new URL(url).hostname !== ""

const triggerFindings = (spec: LanguageAgent["spec"]): ReadonlyArray<Finding> => {
  const triggers = spec.eventTriggers ?? []
  const out: Array<Finding> = []
  if (triggers.length > 0 && spec.executionMode !== "event-driven")
    out.push(
      finding(
        AgentRules.triggersIgnored,
        "spec.eventTriggers",
        `are ignored in ${spec.executionMode} mode (only event-driven agents use them)`,
      ),
    )
  for (const [i, trigger] of triggers.entries()) {
    const path = ["spec", "eventTriggers", i, "source"]
    const source = trigger.source ?? ""
    switch (trigger.type) {
      case "schedule": {
        const problem = source === "" ? "is required for a schedule trigger" : cronScheduleProblem(source)
        if (problem !== undefined)
          out.push(
            finding(
              AgentRules.triggerSchedule,
              path,
              source === "" ? problem : `"${source}" is not a valid cron expression: ${problem}`,
            ),
          )
        break
      }
      case "message-queue":
        if (source === "")
          out.push(finding(AgentRules.triggerMessageQueue, path, "is required for a message-queue trigger"))
        else if (!hasHost(source))
          out.push(
            finding(
              AgentRules.triggerMessageQueue,
              path,
              `"${source}" is not a URL with a host (e.g. nats://nats:4222)`,
            ),
          )
        break
      case "webhook":
        if (source !== "" && !source.startsWith("/"))
          out.push(finding(AgentRules.triggerWebhook, path, `"${source}" must be a URL path starting with /`))
        break
      case "kubernetes-event": {
        const slash = source.indexOf("/")
        const valid =
          source === "" ||
          (KIND_OR_KIND_NAME.test(source) && (slash === -1 || isDns1123Subdomain(source.slice(slash + 1))))
        if (!valid)
          out.push(finding(AgentRules.triggerKubernetesEvent, path, `"${source}" is not Kind or Kind/name`))
        break
      }
    }
  }
  return out
}

const duplicateFindings = (
  refs: ReadonlyArray<{ readonly name: string; readonly namespace?: string | undefined }>,
  field: "modelRefs" | "toolRefs",
  namespace: string,
): ReadonlyArray<Finding> => {
  const first = new Map<string, number>()
  const out: Array<Finding> = []
  for (const [i, ref] of refs.entries()) {
    const key = `${ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : namespace}/${ref.name}`
    const earlier = first.get(key)
    if (earlier === undefined) first.set(key, i)
    else
      out.push(
        finding(
          field === "modelRefs" ? AgentRules.duplicateModel : AgentRules.duplicateTool,
          ["spec", field, i],
          `duplicates spec.${field}[${earlier}] ("${key}")`,
        ),
      )
  }
  return out
}

const volumeFindings = (spec: LanguageAgent["spec"]): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  for (const [i, volume] of (spec.volumes ?? []).entries())
    if (RESERVED_VOLUME.test(volume.name))
      out.push(
        finding(
          AgentRules.reservedVolume,
          ["spec", "volumes", i, "name"],
          `volume name "${volume.name}" is reserved for the operator (workspace, agent-config, knowledge-<n>)`,
        ),
      )
  const workspace = spec.workspace?.enabled === true ? normalisePath(spec.workspace.mountPath) : undefined
  for (const [i, mount] of (spec.volumeMounts ?? []).entries()) {
    const path = normalisePath(mount.mountPath)
    if (path === workspace || path === AGENT_CONFIG_MOUNT_PATH)
      out.push(
        finding(
          AgentRules.reservedMountPath,
          ["spec", "volumeMounts", i, "mountPath"],
          `"${mount.mountPath}" is where the operator mounts the ${path === workspace ? "workspace" : "agent configuration"}`,
        ),
      )
  }
  return out
}

/** Every rule that needs no other object (docs/languageagent.md §Validation). Pure. */
export const staticAgentFindings = (agent: LanguageAgent, namespace: string): ReadonlyArray<Finding> => {
  const spec = agent.spec
  const out: Array<Finding> = [...nameFindings(agent), ...scheduleFindings(spec), ...triggerFindings(spec)]
  for (const [i, filter] of (spec.safetyConfig?.contentFilters ?? []).entries())
    if (filter.type === "custom" && (filter.pattern ?? "").trim() === "")
      out.push(
        finding(
          AgentRules.contentFilterPattern,
          ["spec", "safetyConfig", "contentFilters", i, "pattern"],
          "is required for a custom content filter",
        ),
      )
  const memory = spec.memoryStore
  if (memory !== undefined && memory.type !== "ephemeral" && memory.connectionSecretRef === undefined)
    out.push(
      finding(
        AgentRules.memoryStoreSecret,
        "spec.memoryStore.connectionSecretRef",
        `is required for memory store type ${memory.type}`,
      ),
    )
  out.push(
    ...secretNamespaceFindings(
      memory?.connectionSecretRef,
      ["spec", "memoryStore", "connectionSecretRef"],
      namespace,
    ),
  )
  out.push(...duplicateFindings(spec.modelRefs, "modelRefs", namespace))
  out.push(...duplicateFindings(spec.toolRefs ?? [], "toolRefs", namespace))
  out.push(...volumeFindings(spec))
  out.push(...egressFindings(spec.egress))
  const workspace = spec.workspace
  if (
    spec.executionMode !== "scheduled" &&
    spec.replicas > 1 &&
    workspace?.enabled === true &&
    workspace.accessMode === "ReadWriteOnce"
  )
    out.push(
      finding(
        AgentRules.sharedWorkspace,
        "spec.replicas",
        `${spec.replicas} replicas share a ReadWriteOnce workspace: pods scheduled to other nodes stay Pending`,
      ),
    )
  return out
}
