// The Pod webhook's authorisation gate in front of the injection: forged sidecar marks (annotations the
// agent's own spec does not back, or Pods not created by the ReplicaSet/Job controller) are denied with
// a message naming the entry and the rule, and never reach the injection.
import { Effect, Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LanguageAgent } from "../../../src/api/languageagent.ts"
import { mutatePod } from "../../../src/webhook/pods.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"
import {
  type AgentLookup,
  authorizedSidecars,
  authorizeSidecars,
  TRUSTED_POD_CREATORS,
} from "../../../src/webhook/sidecar-authorization.ts"
import { agentPod, fsTool, lookupOf, podRequest, searchTool } from "./pods-fixtures.ts"
import { annotationsOf, answerRequest, denyLines, initContainersOf } from "./pods-support.ts"

const decodeAgent = Schema.decodeUnknownSync(LanguageAgent)
const REPLICASET = "system:serviceaccount:kube-system:replicaset-controller"
const JOBS = "system:serviceaccount:kube-system:job-controller"
const TOOLS = "metadata.annotations[langop.io/sidecar-tools]"
const INJECTED = "metadata.annotations[langop.io/injected-tools]"

const agent = (spec: Record<string, unknown> = {}, name = "agent") =>
  decodeAgent({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageAgent",
    metadata: { name, namespace: "team-a", uid: `uid-${name}` },
    spec: { image: "agent:1", modelRefs: [{ name: "gpt" }], ...spec },
  })

const bothTools = agent({ toolRefs: [{ name: "fs" }, { name: "search" }] })

/** The gate over the real injection, with a fixed set of agents; records both kinds of lookup. */
const gate = (agents: ReadonlyArray<LanguageAgent>, failAgentLookup = false) => {
  const tools = lookupOf([fsTool, searchTool])
  const agentCalls: Array<string> = []
  const agentLookup: AgentLookup<Error> = (namespace, name) => {
    agentCalls.push(`${namespace}/${name}`)
    return failAgentLookup
      ? Effect.fail(new Error("connection refused"))
      : Effect.succeed(agents.find((a) => a.metadata.namespace === namespace && a.metadata.name === name))
  }
  const handler = authorizeSidecars(agentLookup, mutatePod(tools.lookup))
  const run = (request: AdmissionRequest) => ({ response: Effect.runSync(handler(request)) })
  return { run, toolCalls: tools.calls, agentCalls }
}

/** A Pod CREATE by `username` (`null`: a request without userInfo). */
const created = (pod: unknown, username: string | null = REPLICASET): AdmissionRequest =>
  podRequest(pod, username === null ? {} : { userInfo: { username } })

describe("/mutate/pods gate: what the agent's spec backs is injected", () => {
  it.each([
    ["the ReplicaSet controller", REPLICASET],
    ["the Job controller", JOBS],
    ["the controller manager's own identity", "system:kube-controller-manager"],
  ])("a Pod created by %s for an agent that lists both tools gets both sidecars", (_, username) => {
    const { run, agentCalls } = gate([bothTools])
    const { response } = run(created(agentPod(), username))
    expect(response.allowed).toBe(true)
    expect(response.patch).toBeDefined()
    expect(agentCalls).toEqual(["team-a/agent"])
  })

  it("the re-invocation on the injected Pod (it carries our injected-tools) passes with no patch", () => {
    const tools = lookupOf([fsTool, searchTool])
    const first = answerRequest(tools.lookup, created(agentPod()))
    expect(annotationsOf(first.pod)["langop.io/injected-tools"]).toBe("team-a/fs,team-a/search")
    expect(initContainersOf(first.pod)).toHaveLength(2)
    const { run } = gate([bothTools])
    const { response } = run(created(first.pod))
    expect(response).toEqual({ uid: podRequest(null).uid, allowed: true })
  })

  it("a Pod with neither mark passes without any lookup", () => {
    const { run, agentCalls, toolCalls } = gate([])
    const pod = agentPod()
    delete (pod.metadata.annotations as Record<string, string>)["langop.io/sidecar-tools"]
    expect(run(created(pod, "alice")).response).toEqual({ uid: podRequest(null).uid, allowed: true })
    expect([...agentCalls, ...toolCalls]).toEqual([])
  })

  it("the authorised set: enabled toolRefs, ref namespace defaulted, blocked names left out", () => {
    const a = agent({
      toolRefs: [
        { name: "fs" },
        { name: "search", enabled: false },
        { name: "web", namespace: "shared" },
        { name: "shell" },
      ],
      safetyConfig: { blockedTools: ["shell"] },
    })
    expect([...authorizedSidecars(a)]).toEqual(["team-a/fs", "shared/web"])
  })
})

describe("/mutate/pods gate: forged marks are denied and never injected", () => {
  it("an agent with no tools whose Pods list one (podAnnotations forgery): denied naming the tool", () => {
    const { run, toolCalls } = gate([agent()])
    const { response } = run(created(agentPod({ annotations: { "langop.io/sidecar-tools": "team-a/fs" } })))
    expect(response.allowed).toBe(false)
    expect(response.status?.code).toBe(403)
    expect(denyLines(response)).toEqual([
      `${TOOLS}: LanguageTool team-a/fs is not an enabled, unblocked toolRef of LanguageAgent team-a/agent; only the agent's own tools are injected (SidecarNotAuthorized)`,
    ])
    expect(response.patch).toBeUndefined()
    expect(toolCalls).toEqual([])
  })

  it.each([
    [
      "blocked by safetyConfig.blockedTools",
      { toolRefs: [{ name: "fs" }, { name: "search" }], safetyConfig: { blockedTools: ["search"] } },
    ],
    ["a disabled toolRef", { toolRefs: [{ name: "fs" }, { name: "search", enabled: false }] }],
    ["not a toolRef at all", { toolRefs: [{ name: "fs" }] }],
  ])("a listed tool that is %s: denied naming only that tool", (_, spec) => {
    const { run } = gate([agent(spec)])
    const { response } = run(created(agentPod()))
    expect(response.allowed).toBe(false)
    expect(denyLines(response)).toEqual([
      `${TOOLS}: LanguageTool team-a/search is not an enabled, unblocked toolRef of LanguageAgent team-a/agent; only the agent's own tools are injected (SidecarNotAuthorized)`,
    ])
  })

  it.each([
    ["a user", "alice", '"alice"'],
    [
      "another service account",
      "system:serviceaccount:team-a:deployer",
      '"system:serviceaccount:team-a:deployer"',
    ],
    ["nobody known (no userInfo)", null, "an unknown user"],
  ])("a Pod created directly by %s gets nothing, even when the agent lists the tools", (_, username, who) => {
    const { run, agentCalls, toolCalls } = gate([bothTools])
    const { response } = run(created(agentPod(), username))
    expect(response.allowed).toBe(false)
    expect(denyLines(response)).toEqual([
      `${TOOLS}: sidecar tools are injected only into Pods that the ReplicaSet or Job controller creates from a LanguageAgent's Deployment or CronJob; this Pod was created by ${who}: remove the langop.io/ annotations (SidecarNotAuthorized)`,
    ])
    expect([...agentCalls, ...toolCalls]).toEqual([])
  })

  it("a forged injected-tools without sidecar-tools is denied", () => {
    const { run } = gate([agent()])
    const pod = agentPod({ annotations: { "langop.io/injected-tools": "team-a/fs" } })
    delete (pod.metadata.annotations as Record<string, string>)["langop.io/sidecar-tools"]
    const { response } = run(created(pod))
    expect(response.allowed).toBe(false)
    expect(denyLines(response)).toEqual([
      `${INJECTED}: names LanguageTool team-a/fs, which this Pod's authorised langop.io/sidecar-tools does not list; langop.io/injected-tools is written by the operator only (SidecarNotAuthorized)`,
    ])
  })

  it("injected-tools naming more than the authorised list is denied", () => {
    const { run } = gate([agent({ toolRefs: [{ name: "fs" }] })])
    const pod = agentPod({
      annotations: {
        "langop.io/sidecar-tools": "team-a/fs",
        "langop.io/injected-tools": "team-a/fs,team-a/search",
      },
    })
    const { response } = run(created(pod))
    expect(response.allowed).toBe(false)
    expect(denyLines(response)).toEqual([
      `${INJECTED}: names LanguageTool team-a/search, which this Pod's authorised langop.io/sidecar-tools does not list; langop.io/injected-tools is written by the operator only (SidecarNotAuthorized)`,
    ])
  })

  it("the Pod's agent does not exist: denied naming it", () => {
    const { run } = gate([agent({ toolRefs: [{ name: "fs" }, { name: "search" }] }, "other")])
    const { response } = run(created(agentPod()))
    expect(denyLines(response)).toEqual([
      `${TOOLS}: LanguageAgent team-a/agent (the Pod's app.kubernetes.io/name label) does not exist, so no sidecar tool is authorised (SidecarNotAuthorized)`,
    ])
  })

  it("a Pod naming no agent is denied at its label", () => {
    const { run } = gate([bothTools])
    const pod = agentPod()
    delete (pod.metadata.labels as Record<string, string>)["app.kubernetes.io/name"]
    const { response } = run(created(pod))
    expect(denyLines(response)).toEqual([
      "metadata.labels[app.kubernetes.io/name]: is missing: the Pod names no LanguageAgent, so its sidecar tools cannot be authorised (SidecarNotAuthorized)",
    ])
  })

  it("an agent lookup failure denies with 500 (the ReplicaSet controller retries)", () => {
    const { run } = gate([bothTools], true)
    const { response } = run(created(agentPod()))
    expect(response.allowed).toBe(false)
    expect(response.status).toMatchObject({ code: 500, reason: "InternalError" })
    expect(response.status?.message).toContain("LanguageAgent team-a/agent could not be read")
  })

  it("the trusted creators are exactly the controller manager's Pod-creating identities", () => {
    expect([...TRUSTED_POD_CREATORS].sort()).toEqual([
      "system:kube-controller-manager",
      "system:serviceaccount:kube-system:job-controller",
      "system:serviceaccount:kube-system:replicaset-controller",
    ])
  })
})

describe("/mutate/pods gate: properties", () => {
  const names = ["fs", "search"] as const
  it("whatever the marks, the creator and the agent, only tools the agent lists unblocked are injected", () => {
    fc.assert(
      fc.property(
        fc.subarray([...names]),
        fc.subarray([...names]),
        fc.subarray([...names]),
        fc.subarray([...names]),
        fc.constantFrom(REPLICASET, JOBS, "alice", ""),
        (listed, injected, refs, blocked, username) => {
          const a = agent({
            toolRefs: refs.map((name) => ({ name })),
            safetyConfig: { blockedTools: blocked },
          })
          const annotations: Record<string, string> = {
            "langop.io/sidecar-tools": listed.map((n) => `team-a/${n}`).join(","),
            ...(injected.length > 0
              ? { "langop.io/injected-tools": injected.map((n) => `team-a/${n}`).join(",") }
              : {}),
          }
          const { run } = gate([a])
          const { response } = run(created(agentPod({ annotations }), username === "" ? null : username))
          expect(typeof response.allowed).toBe("boolean")
          if (response.patch === undefined) return
          const authorized = refs.filter((n) => !blocked.includes(n))
          expect([REPLICASET, JOBS]).toContain(username)
          for (const n of listed) expect(authorized).toContain(n)
        },
      ),
      { numRuns: 500 },
    )
  })
})
