import { describe, expect, it } from "vitest"
import {
  validateAgent,
  validationMessage,
  validationReason,
} from "../../../../src/controllers/languageagent/validate.ts"
import { staticAgentFindings } from "../../../../src/domain/languageagent.ts"
import { CRON_CORPUS } from "../../domain/cron-corpus.ts"
import { agent, exampleSpec } from "./fixtures.ts"

const problems = (spec: Record<string, unknown>, name?: string) =>
  validateAgent(agent(spec, name === undefined ? {} : { name })).map((i) => `${i.reason} ${i.path}`)

describe("validateAgent", () => {
  it.each(["languageagent.yaml", "languageagent-scheduled.yaml", "languageagent-event-driven.yaml"])(
    "the example %s is valid",
    (file) => expect(validateAgent(agent(exampleSpec(file), { name: "support" }))).toEqual([]),
  )

  it("limits names: 63 characters always, 52 for scheduled agents, DNS-1035 when a Service is created", () => {
    expect(problems({}, "a".repeat(64))).toEqual(["InvalidName metadata.name"])
    expect(problems({ executionMode: "scheduled" }, "a".repeat(53))).toEqual(["InvalidName metadata.name"])
    expect(problems({ executionMode: "scheduled" }, "a".repeat(52))).toEqual([])
    expect(problems({ executionMode: "interactive" }, "1bot")).toEqual(["InvalidName metadata.name"])
    expect(problems({ executionMode: "autonomous" }, "1bot")).toEqual([])
    expect(problems({ executionMode: "event-driven", eventTriggers: [{ type: "webhook" }] }, "1bot")).toEqual(
      ["InvalidName metadata.name"],
    )
    expect(
      problems(
        { executionMode: "event-driven", eventTriggers: [{ type: "schedule", source: "@daily" }] },
        "1bot",
      ),
    ).toEqual([])
  })

  it("checks the schedule only in scheduled mode; empty is allowed (hourly default)", () => {
    // What kube-apiserver accepts, no more and no less (the webhook admits the same).
    expect(problems({ executionMode: "scheduled", schedule: "0 ? * * *" })).toEqual([])
    expect(problems({ executionMode: "scheduled", schedule: "@every 90m" })).toEqual([])
    expect(problems({ executionMode: "scheduled", schedule: "every day" })).toEqual([
      "InvalidSpec spec.schedule",
    ])
    expect(problems({ executionMode: "scheduled", schedule: "TZ=UTC 0 0 * * *" })).toEqual([
      "InvalidSpec spec.schedule",
    ])
    expect(problems({ executionMode: "scheduled", schedule: "" })).toEqual([])
    expect(problems({ executionMode: "scheduled" })).toEqual([])
    expect(problems({ executionMode: "autonomous", schedule: "nonsense" })).toEqual([])
  })

  it("checks every trigger type's source", () => {
    const trig = (t: Record<string, unknown>) =>
      problems({ executionMode: "event-driven", eventTriggers: [t] })
    expect(trig({ type: "schedule" })).toEqual(["InvalidSpec spec.eventTriggers[0].source"])
    expect(trig({ type: "schedule", source: "61 * * * *" })).toEqual([
      "InvalidSpec spec.eventTriggers[0].source",
    ])
    expect(trig({ type: "schedule", source: "@hourly" })).toEqual([])
    expect(trig({ type: "message-queue" })).toEqual(["InvalidSpec spec.eventTriggers[0].source"])
    expect(trig({ type: "message-queue", source: "not a url" })).toEqual([
      "InvalidSpec spec.eventTriggers[0].source",
    ])
    expect(trig({ type: "message-queue", source: "nats://broker:4222" })).toEqual([])
    expect(trig({ type: "webhook", source: "github" })).toEqual(["InvalidSpec spec.eventTriggers[0].source"])
    expect(trig({ type: "webhook", source: "/github" })).toEqual([])
    expect(trig({ type: "webhook" })).toEqual([])
    expect(trig({ type: "kubernetes-event", source: "Pod/web-1" })).toEqual([])
    expect(trig({ type: "kubernetes-event", source: "Pod" })).toEqual([])
    expect(trig({ type: "kubernetes-event", source: "pods in ns" })).toEqual([
      "InvalidSpec spec.eventTriggers[0].source",
    ])
  })

  it("requires a pattern for custom content filters", () => {
    expect(problems({ safetyConfig: { contentFilters: [{ type: "custom" }] } })).toEqual([
      "InvalidSpec spec.safetyConfig.contentFilters[0].pattern",
    ])
    expect(
      problems({ safetyConfig: { contentFilters: [{ type: "custom", pattern: "x+" }, { type: "pii" }] } }),
    ).toEqual([])
  })

  it("requires a Secret for redis/postgres/s3 memory, in the agent's namespace (docs/concepts.md X-3)", () => {
    expect(problems({ memoryStore: { type: "redis" } })).toEqual([
      "InvalidSpec spec.memoryStore.connectionSecretRef",
    ])
    expect(
      problems({
        memoryStore: { type: "postgres", connectionSecretRef: { name: "pg", namespace: "other" } },
      }),
    ).toEqual(["CrossNamespaceSecretUnsupported spec.memoryStore.connectionSecretRef.namespace"])
    expect(
      problems({ memoryStore: { type: "s3", connectionSecretRef: { name: "s3", namespace: "ns" } } }),
    ).toEqual([])
    expect(problems({ memoryStore: { type: "ephemeral" } })).toEqual([])
  })

  it("rejects duplicate model and tool references (namespace defaulted)", () => {
    expect(problems({ modelRefs: [{ name: "m1" }, { name: "m1", namespace: "ns" }] })).toEqual([
      "InvalidSpec spec.modelRefs[1]",
    ])
    expect(problems({ toolRefs: [{ name: "t" }, { name: "t", namespace: "other" }] })).toEqual([])
    expect(problems({ toolRefs: [{ name: "t" }, { name: "t" }] })).toEqual(["InvalidSpec spec.toolRefs[1]"])
  })

  it("reserves volume names and mount paths", () => {
    expect(
      problems({
        volumes: [
          { name: "workspace", emptyDir: {} },
          { name: "agent-config", emptyDir: {} },
          { name: "knowledge-0", emptyDir: {} },
          { name: "data", emptyDir: {} },
        ],
      }),
    ).toEqual([
      "ReservedVolumeName spec.volumes[0].name",
      "ReservedVolumeName spec.volumes[1].name",
      "ReservedVolumeName spec.volumes[2].name",
    ])
    expect(
      problems({
        workspace: { enabled: true, mountPath: "/work" },
        volumeMounts: [
          { name: "a", mountPath: "/work/" },
          { name: "b", mountPath: "/etc/langop/agent" },
          { name: "c", mountPath: "/data" },
        ],
      }),
    ).toEqual(["InvalidSpec spec.volumeMounts[0].mountPath", "InvalidSpec spec.volumeMounts[1].mountPath"])
    // Without a workspace its mount path is free.
    expect(problems({ volumeMounts: [{ name: "a", mountPath: "/workspace" }] })).toEqual([])
  })

  it("reports the most specific reason and every problem in the message", () => {
    const issues = validateAgent(
      agent({
        volumes: [{ name: "workspace", emptyDir: {} }],
        safetyConfig: { contentFilters: [{ type: "custom" }] },
      }),
    )
    expect(validationReason(issues)).toBe("ReservedVolumeName")
    expect(validationMessage(issues)).toBe(
      'spec.safetyConfig.contentFilters[0].pattern: is required for a custom content filter; spec.volumes[0].name: volume name "workspace" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
    )
    expect(validationReason(validateAgent(agent({}, { name: "x".repeat(70) })))).toBe("InvalidName")
  })
})

describe("webhook and controller agree on schedules", () => {
  // The reproduced defect: `0 ? * * *` admitted by the webhook, then refused at reconcile. Over the whole
  // corpus (each verdict proven against kube-apiserver by test/integration/api/cron-schedule.test.ts),
  // the webhook denies a scheduled agent exactly when the controller reports the schedule. (Schedules
  // with surrounding white space are left out: an agent's schedule is trimmed before it becomes the
  // CronJob's, and an empty one means hourly.)
  it.each(
    CRON_CORPUS.filter((c) => c.schedule.trim() === c.schedule && c.schedule !== "").map(
      (c) => [JSON.stringify(c.schedule), c] as const,
    ),
  )("%s", (_, c) => {
    const object = agent({ executionMode: "scheduled", schedule: c.schedule })
    const webhookDenies = staticAgentFindings(object, "ns").some(
      (f) => f.severity === "deny" && f.path === "spec.schedule",
    )
    const controllerRefuses = validateAgent(object).some((i) => i.path === "spec.schedule")
    expect({ webhookDenies, controllerRefuses }).toEqual({
      webhookDenies: !c.accepted,
      controllerRefuses: !c.accepted,
    })
  })
})
