import { describe, expect, it } from "vitest"
import { agentRuleCatalog } from "../../../../src/domain/languageagent.ts"
import { agentAdmission } from "../../../../src/webhook/kinds/languageagent.ts"
import { checkRow, expectCovered, failingLookup, mutate, NS, type Row, withSpec } from "./support.ts"

const agent = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageAgent",
  metadata: { name: "a1", namespace: NS },
  spec: { image: "ghcr.io/langop/agent:1.0", modelRefs: [{ name: "gpt" }] },
}
const a = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  withSpec(agent, spec, metadata)
const long = (n: number) => `a${"b".repeat(n - 1)}`
const egress = (rules: ReadonlyArray<unknown>) => a({ egress: rules })

const rows: ReadonlyArray<Row> = [
  { name: "a minimal valid agent is allowed without warnings", object: agent },
  {
    name: "name longer than 63 characters",
    object: a({}, { name: long(64) }),
    deny: [`metadata.name: "${long(64)}" is longer than 63 characters`],
  },
  {
    name: "interactive agent names need a DNS-1035 label",
    object: a({ executionMode: "interactive" }, { name: "1st.agent" }),
    deny: [
      `metadata.name: "1st.agent" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter) because interactive agents get a Service of that name`,
    ],
  },
  {
    name: "event-driven agents with a webhook trigger need a DNS-1035 label, without one they do not",
    object: a({ executionMode: "event-driven", eventTriggers: [{ type: "webhook" }] }, { name: "9lives" }),
    deny: [
      `metadata.name: "9lives" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter) because event-driven agents get a Service of that name`,
    ],
  },
  {
    name: "autonomous agents may start with a digit",
    object: a({}, { name: "9lives" }),
  },
  {
    name: "scheduled agents: at most 52 characters",
    object: a({ executionMode: "scheduled", schedule: "0 * * * *" }, { name: long(53) }),
    deny: [
      `metadata.name: "${long(53)}" is longer than 52 characters, the limit for a scheduled agent's CronJob`,
    ],
  },
  {
    name: "scheduled agents: a cron field out of range",
    object: a({ executionMode: "scheduled", schedule: "61 * * * *" }),
    deny: [
      'spec.schedule: "61 * * * *" is not a schedule a Kubernetes CronJob accepts: minute "61" is outside 0-59',
    ],
  },
  {
    name: "scheduled agents: a time-zone prefix",
    object: a({ executionMode: "scheduled", schedule: "CRON_TZ=UTC 0 3 * * *" }),
    deny: [
      'spec.schedule: "CRON_TZ=UTC 0 3 * * *" is not a schedule a Kubernetes CronJob accepts: must not contain TZ: a TZ= or CRON_TZ= time zone prefix is refused by Kubernetes CronJobs',
    ],
  },
  {
    name: "scheduled agents: @every <duration> is accepted, as kube-apiserver accepts it",
    object: a({ executionMode: "scheduled", schedule: "@every 1h30m" }),
  },
  {
    name: "scheduled agents: ? in the hour field is accepted, as kube-apiserver accepts it",
    object: a({ executionMode: "scheduled", schedule: "0 ? * * *" }),
  },
  {
    name: "scheduled agents: @every with a unit Go durations do not have",
    object: a({ executionMode: "scheduled", schedule: "@every 1d" }),
    deny: [
      'spec.schedule: "@every 1d" is not a schedule a Kubernetes CronJob accepts: "1d" is not a duration (e.g. @every 1h30m; units ns, us, ms, s, m, h)',
    ],
  },
  {
    name: "scheduled agents: valid schedules with names, steps, lists and macros",
    object: a({ executionMode: "scheduled", schedule: "*/15 8-18 * JAN-jun mon,wed,FRI" }),
  },
  {
    name: "scheduled agents without schedule run hourly, with a warning",
    object: a({ executionMode: "scheduled" }),
    warn: ["spec.schedule: is empty: the agent runs hourly (0 * * * *)"],
  },
  {
    name: "a schedule is ignored (not checked) in other modes",
    object: a({ schedule: "whenever" }),
  },
  {
    name: "trigger sources per type",
    object: a({
      executionMode: "event-driven",
      eventTriggers: [
        { type: "schedule" },
        { type: "schedule", source: "0 25 * * *" },
        { type: "message-queue" },
        { type: "message-queue", source: "orders-queue" },
        { type: "webhook", source: "github" },
        { type: "kubernetes-event", source: "Pod/My_Name" },
        { type: "kubernetes-event", source: "Deployment/web" },
        { type: "message-queue", source: "nats://nats.messaging:4222" },
        { type: "webhook", source: "/github" },
        { type: "schedule", source: "@daily" },
      ],
    }),
    deny: [
      "spec.eventTriggers[0].source: is required for a schedule trigger",
      'spec.eventTriggers[1].source: "0 25 * * *" is not a valid cron expression: hour "25" is outside 0-23',
      "spec.eventTriggers[2].source: is required for a message-queue trigger",
      'spec.eventTriggers[3].source: "orders-queue" is not a URL with a host (e.g. nats://nats:4222)',
      'spec.eventTriggers[4].source: "github" must be a URL path starting with /',
      'spec.eventTriggers[5].source: "Pod/My_Name" is not Kind or Kind/name',
    ],
  },
  {
    name: "triggers outside event-driven mode are ignored, with a warning",
    object: a({ executionMode: "interactive", eventTriggers: [{ type: "webhook", source: "/x" }] }),
    warn: ["spec.eventTriggers: are ignored in interactive mode (only event-driven agents use them)"],
  },
  {
    name: "custom content filters need a pattern",
    object: a({ safetyConfig: { contentFilters: [{ type: "custom", pattern: "  " }, { type: "pii" }] } }),
    deny: ["spec.safetyConfig.contentFilters[0].pattern: is required for a custom content filter"],
  },
  {
    name: "redis, postgres and s3 memory stores need a connection Secret",
    object: a({ memoryStore: { type: "postgres" } }),
    deny: ["spec.memoryStore.connectionSecretRef: is required for memory store type postgres"],
  },
  {
    name: "memory Secrets must be in the agent's namespace (docs/concepts.md X-3); a missing local one is a warning",
    object: a({
      memoryStore: { type: "redis", connectionSecretRef: { name: "memory-url", namespace: "other" } },
    }),
    deny: [
      'spec.memoryStore.connectionSecretRef.namespace: Secret "other/memory-url" is in another namespace than this object ("team"); Pods can only use Secrets of their own namespace',
    ],
  },
  {
    name: "a missing memory Secret is a warning",
    object: a({ memoryStore: { type: "redis", connectionSecretRef: { name: "nope" } } }),
    warn: ['spec.memoryStore.connectionSecretRef: Secret "team/nope" not found (it may be created later)'],
  },
  {
    name: "duplicate model and tool references (namespace defaulted before comparing)",
    object: a({
      modelRefs: [{ name: "gpt" }, { name: "backup" }, { name: "gpt", namespace: NS, role: "fallback" }],
      toolRefs: [
        { name: "web-fetch" },
        { name: "web-fetch", namespace: NS },
        { name: "web-fetch", namespace: "x" },
      ],
    }),
    deny: [
      'spec.modelRefs[2]: duplicates spec.modelRefs[0] ("team/gpt")',
      'spec.toolRefs[1]: duplicates spec.toolRefs[0] ("team/web-fetch")',
    ],
    warn: ['spec.toolRefs[2]: LanguageTool "x/web-fetch" not found (it may be created later)'],
  },
  {
    name: "reserved volume names",
    object: a({
      volumes: [
        { name: "workspace", emptyDir: {} },
        { name: "agent-config", emptyDir: {} },
        { name: "knowledge-2", emptyDir: {} },
        { name: "knowledge", emptyDir: {} },
      ],
    }),
    deny: [
      'spec.volumes[0].name: volume name "workspace" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
      'spec.volumes[1].name: volume name "agent-config" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
      'spec.volumes[2].name: volume name "knowledge-2" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
    ],
  },
  {
    name: "mounts on the workspace path (when enabled) or the agent configuration",
    object: a({
      workspace: { mountPath: "/data" },
      volumes: [{ name: "scratch", emptyDir: {} }],
      volumeMounts: [
        { name: "scratch", mountPath: "/data/" },
        { name: "scratch", mountPath: "/etc/langop/agent" },
        { name: "scratch", mountPath: "/workspace" },
      ],
    }),
    deny: [
      'spec.volumeMounts[0].mountPath: "/data/" is where the operator mounts the workspace',
      'spec.volumeMounts[1].mountPath: "/etc/langop/agent" is where the operator mounts the agent configuration',
    ],
  },
  {
    name: "/workspace is free when the workspace is disabled",
    object: a({
      workspace: { enabled: false },
      volumes: [{ name: "scratch", emptyDir: {} }],
      volumeMounts: [{ name: "scratch", mountPath: "/workspace" }],
    }),
  },
  {
    name: "a sidecar tool in another namespace is denied (docs/concepts.md X-5); blocked, disabled and service tools are not",
    object: a({
      toolRefs: [
        { name: "shared-sidecar", namespace: "shared" },
        { name: "shared-svc", namespace: "shared" },
        { name: "files" },
      ],
    }),
    deny: [
      `spec.toolRefs[0]: LanguageTool "shared/shared-sidecar" runs in sidecar mode; a sidecar tool must be in the agent's namespace ("team")`,
    ],
  },
  {
    name: "blocked or disabled cross-namespace sidecar tools are not denied",
    object: a({
      toolRefs: [
        { name: "shared-sidecar", namespace: "shared", enabled: false },
        { name: "shared-sidecar", namespace: "shared2" },
      ],
      safetyConfig: { blockedTools: ["shared-sidecar"] },
    }),
    warn: ['spec.toolRefs[1]: LanguageTool "shared2/shared-sidecar" not found (it may be created later)'],
  },
  {
    name: "several replicas sharing a ReadWriteOnce workspace: a warning (docs/languageagent.md AG-15)",
    object: a({ replicas: 3, workspace: {} }),
    warn: [
      "spec.replicas: 3 replicas share a ReadWriteOnce workspace: pods scheduled to other nodes stay Pending",
    ],
  },
  {
    name: "missing model, tool and persona are warnings",
    object: a({ modelRefs: [{ name: "nope" }], toolRefs: [{ name: "gone" }], personaRef: { name: "who" } }),
    warn: [
      'spec.modelRefs[0]: LanguageModel "team/nope" not found (it may be created later)',
      'spec.toolRefs[0]: LanguageTool "team/gone" not found (it may be created later)',
      'spec.personaRef: LanguagePersona "team/who" not found (it may be created later)',
    ],
  },
  {
    name: "references that cannot be checked now are warnings",
    object: a({ personaRef: { name: "base" } }),
    lookup: failingLookup,
    warn: [
      'spec.modelRefs[0]: cannot check LanguageModel "team/gpt" now: timeout',
      'spec.personaRef: cannot check LanguagePersona "team/base" now: timeout',
    ],
  },
  {
    name: "schema violations are reported as field: rule lines",
    object: a({ maxIterations: 0, timeout: "1h30m", executionMode: "sometimes", modelRefs: [] }),
    deny: [
      "spec.modelRefs: Expected a value with a length of at least 1",
      'spec.executionMode: Expected "autonomous" | "interactive" | "scheduled" | "event-driven"',
      "spec.maxIterations: Expected a value between 1 and 1000",
      "spec.timeout: Expected a string matching the RegExp ^[0-9]+(ns|us|µs|ms|s|m|h)$",
    ],
  },
  {
    name: "egress: a rule without destination",
    object: egress([{ ports: [{ port: 443 }] }, { to: { dns: [] } }]),
    deny: [
      "spec.egress[0]: rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
      "spec.egress[1].to: rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
    ],
  },
  {
    name: "egress: DNS names",
    object: egress([
      { to: { dns: ["*.*.example.com", "api.openai.com", "*", "*.example.com", "bad_name.io"] } },
    ]),
    deny: [
      'spec.egress[0].to.dns[0]: "*.*.example.com" is not a valid DNS name or single leading wildcard',
      'spec.egress[0].to.dns[4]: "bad_name.io" is not a valid DNS name or single leading wildcard',
    ],
  },
  {
    name: "egress: CIDRs",
    object: egress([
      { to: { cidr: "10.0.0.0/33" } },
      { to: { cidr: "2001:db8::/48" } },
      { to: { cidr: "192.168.1.7" } },
    ]),
    deny: ['spec.egress[0].to.cidr: "10.0.0.0/33" is not an IPv4 or IPv6 CIDR or address'],
  },
  {
    name: "egress: Service names",
    object: egress([{ to: { service: { name: "My_DB", namespace: "Data" } } }]),
    deny: [
      `spec.egress[0].to.service.name: "My_DB" is not a valid Service name (DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters)`,
      'spec.egress[0].to.service.namespace: "Data" is not a valid namespace name',
    ],
  },
  {
    name: "egress: groups",
    object: egress([{ to: { group: "-workers" } }]),
    deny: ['spec.egress[0].to.group: "-workers" is not a valid label value'],
  },
  {
    name: "egress: label selectors",
    object: egress([
      {
        to: {
          namespaceSelector: { matchLabels: { "team/": "x" } },
          podSelector: {
            matchExpressions: [
              { key: "app", operator: "In" },
              { key: "tier", operator: "Near", values: ["a"] },
            ],
          },
        },
      },
    ]),
    deny: [
      'spec.egress[0].to.namespaceSelector.matchLabels: "team/" is not a valid label key',
      "spec.egress[0].to.podSelector.matchExpressions[0].values: operator In needs values",
      'spec.egress[0].to.podSelector.matchExpressions[1].operator: "Near" is not one of In, NotIn, Exists, DoesNotExist',
    ],
  },
  {
    name: "egress: from is ignored with a warning",
    object: egress([{ from: { cidr: "10.0.0.0/8" }, to: { cidr: "10.0.0.0/8" } }]),
    warn: ["spec.egress[0].from: is ignored on an egress rule; use `to`"],
  },
  {
    name: "egress: ports are schema-checked",
    object: egress([{ to: { cidr: "10.0.0.0/8" }, ports: [{ port: 0, protocol: "ICMP" }] }]),
    deny: [
      'spec.egress[0].ports[0].protocol: Expected "TCP" | "UDP" | "SCTP"',
      "spec.egress[0].ports[0].port: Expected a value between 1 and 65535",
    ],
  },
  {
    name: "every violation at once",
    object: a({
      executionMode: "scheduled",
      schedule: "* * *",
      memoryStore: { type: "s3" },
      egress: [{ to: { dns: ["*.*"] } }],
      modelRefs: [{ name: "gpt" }, { name: "gpt" }],
    }),
    deny: [
      'spec.schedule: "* * *" is not a schedule a Kubernetes CronJob accepts: expected 5 fields (minute hour day-of-month month day-of-week), found 3',
      "spec.memoryStore.connectionSecretRef: is required for memory store type s3",
      'spec.modelRefs[1]: duplicates spec.modelRefs[0] ("team/gpt")',
      'spec.egress[0].to.dns[0]: "*.*" is not a valid DNS name or single leading wildcard',
    ],
  },
]

describe("LanguageAgent validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(agentAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(agentRuleCatalog, exercised))
})

describe("LanguageAgent defaulting", () => {
  const full = a({
    modelRefs: [{ name: "gpt" }, { name: "backup", namespace: "models" }, { name: "x", namespace: "" }],
    toolRefs: [{ name: "web-fetch" }],
    personaRef: { name: "base" },
    egress: [{ to: { service: { name: "db" } } }, { to: { cidr: "10.0.0.0/8" } }],
  })

  it("writes the agent's namespace into every empty reference namespace", () => {
    const { result, patch } = mutate(agentAdmission, full)
    expect(result.spec).toMatchObject({
      modelRefs: [
        { name: "gpt", namespace: NS },
        { name: "backup", namespace: "models" },
        { name: "x", namespace: NS },
      ],
      toolRefs: [{ name: "web-fetch", namespace: NS }],
      personaRef: { name: "base", namespace: NS },
      egress: [{ to: { service: { name: "db", namespace: NS } } }, { to: { cidr: "10.0.0.0/8" } }],
    })
    expect(patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      "add /spec/modelRefs/0/namespace",
      "replace /spec/modelRefs/2/namespace",
      "add /spec/toolRefs/0/namespace",
      "add /spec/personaRef/namespace",
      "add /spec/egress/0/to/service/namespace",
    ])
  })

  it("is idempotent: its own output gets no patch", () => {
    const once = mutate(agentAdmission, full).result
    expect(mutate(agentAdmission, once).patch).toEqual([])
  })

  it("defaults nothing else (no workspace, no schedule)", () => {
    expect(mutate(agentAdmission, a({ executionMode: "scheduled" })).result.spec).toEqual({
      ...agent.spec,
      executionMode: "scheduled",
      modelRefs: [{ name: "gpt", namespace: NS }],
    })
  })

  it("takes the namespace from the request when the object has none", () => {
    const { metadata: _, ...rest } = agent
    const { result } = mutate(agentAdmission, { ...rest, metadata: { name: "a1" } }, { namespace: "other" })
    expect(result.spec).toMatchObject({ modelRefs: [{ name: "gpt", namespace: "other" }] })
  })
})
