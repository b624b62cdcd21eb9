import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { sidecarContainer, sidecarToolOf } from "../../../src/domain/sidecars.ts"
import type { ToolLookup } from "../../../src/webhook/pods.ts"
import { agentPod, fsTool, lookupOf, podRequest, searchTool, tool } from "./pods-fixtures.ts"
import {
  annotationsOf,
  answer,
  answerRequest,
  apiServerDefaults,
  containersOf,
  denyLines,
  initContainersOf,
  names,
  specOf,
  volumesOf,
} from "./pods-support.ts"

const both = lookupOf([fsTool, searchTool])
const PATH = "metadata.annotations[langop.io/sidecar-tools]"

describe("/mutate/pods: pass-through", () => {
  it("a Pod without the annotation passes unchanged, without any lookup", () => {
    const { lookup, calls } = lookupOf([fsTool])
    const pod = agentPod()
    delete (pod.metadata.annotations as Record<string, string>)["langop.io/sidecar-tools"]
    const { response } = answer(lookup, pod)
    expect(response).toEqual({ uid: podRequest(pod).uid, allowed: true })
    expect(calls).toEqual([])
  })

  it.each([[""], [" "], [","]])("an empty annotation (%j) counts as absent", (value) => {
    const { response } = answer(both.lookup, agentPod({ annotations: { "langop.io/sidecar-tools": value } }))
    expect(response.allowed).toBe(true)
    expect(response.patch).toBeUndefined()
  })

  it("operations other than CREATE are allowed unchanged", () => {
    const { response } = answer(both.lookup, agentPod(), { operation: "UPDATE" })
    expect(response).toEqual({ uid: podRequest(null).uid, allowed: true })
  })

  it.each([
    ["no metadata", { spec: { containers: [] } }],
    ["annotations not an object", { metadata: { annotations: "x" }, spec: {} }],
    ["a non-string annotation", { metadata: { annotations: { "langop.io/sidecar-tools": 3 } }, spec: {} }],
    ["no spec", { metadata: {} }],
  ])("odd Pods without a usable annotation pass: %s", (_, pod) => {
    expect(answer(both.lookup, pod).response).toEqual({ uid: podRequest(null).uid, allowed: true })
  })
})

describe("/mutate/pods: injection", () => {
  const { response, patch, pod } = answer(both.lookup, agentPod({ workspacePath: "/data" }))

  it("injects every listed tool as a native sidecar, in annotation order", () => {
    expect(response.allowed).toBe(true)
    expect(response.patchType).toBe("JSONPatch")
    expect(patch.length).toBeGreaterThan(0)
    expect(initContainersOf(pod)).toEqual([
      sidecarContainer(sidecarToolOf(fsTool), "/data"),
      sidecarContainer(sidecarToolOf(searchTool), "/data"),
    ])
    const [fs] = initContainersOf(pod)
    expect(fs).toMatchObject({
      name: "tool-fs",
      restartPolicy: "Always",
      ports: [{ name: "mcp", containerPort: 3000, protocol: "TCP" }],
      volumeMounts: [{ name: "workspace", mountPath: "/data" }],
    })
  })

  it("appends the tools' volumes, unions pull secrets, annotates the Pod", () => {
    expect(names(volumesOf(pod))).toEqual(["workspace", "agent-config", "cache"])
    expect(specOf(pod).imagePullSecrets).toEqual([{ name: "regcred" }])
    expect(annotationsOf(pod)["langop.io/injected-tools"]).toBe("team-a/fs,team-a/search")
    expect(annotationsOf(pod)["langop.io/sidecar-tools"]).toBe("team-a/fs,team-a/search")
    expect(containersOf(pod)).toEqual(agentPod({ workspacePath: "/data" }).spec.containers)
  })

  it("is idempotent: the output gives no patch", () => {
    const again = answer(both.lookup, pod)
    expect(again.response).toEqual({ uid: podRequest(null).uid, allowed: true })
  })

  it("is idempotent on the Pod as the API server defaults it between invocations", () => {
    const defaulted = apiServerDefaults(pod)
    expect(defaulted).not.toEqual(pod)
    expect(answer(both.lookup, defaulted).patch).toEqual([])
  })

  it("a defaulted Pod whose tool changed gets the new container", () => {
    const changed = tool("fs", { ...fsTool.spec, image: "ghcr.io/acme/fs-mcp:1.3" })
    const again = answer(lookupOf([changed, searchTool]).lookup, apiServerDefaults(pod))
    expect(initContainersOf(again.pod).map((c) => c.image)).toEqual([
      "ghcr.io/acme/fs-mcp:1.3",
      "ghcr.io/acme/search:2",
    ])
    expect(names(volumesOf(again.pod))).toEqual(["workspace", "agent-config", "cache", "kube-api-access-x1"])
    // The token mount the ServiceAccount plugin added to our sidecars stays.
    for (const c of initContainersOf(again.pod))
      expect((c.volumeMounts as Array<{ name: string }>).at(-1)?.name).toBe("kube-api-access-x1")
    expect(again.patch.every((op) => op.path.startsWith("/spec/initContainers/0/"))).toBe(true)
  })

  it("mounts the workspace where the agent container mounts it, or not at all without one", () => {
    const at = (p: ReturnType<typeof agentPod>) =>
      initContainersOf(answer(both.lookup, p).pod).map(
        (c) => (c.volumeMounts as Array<{ name: string }>)?.[0],
      )
    expect(at(agentPod())).toEqual([
      { name: "workspace", mountPath: "/workspace" },
      { name: "workspace", mountPath: "/workspace" },
    ])
    expect(at(agentPod({ workspacePath: undefined }))).toEqual([
      undefined,
      { name: "cache", mountPath: "/cache" },
    ])
  })

  it("replaces entries named tool-<tool>, in init and regular containers, keeping others in place", () => {
    const stale = { name: "tool-fs", image: "old", restartPolicy: "Always" }
    const pod0 = agentPod({
      spec: {
        initContainers: [{ name: "setup", image: "busybox" }, stale, { name: "later", image: "busybox" }],
      },
    })
    pod0.spec.containers.push({ name: "tool-search", image: "old", volumeMounts: [] })
    const out = answer(both.lookup, pod0).pod
    expect(names(initContainersOf(out))).toEqual(["setup", "tool-fs", "tool-search", "later"])
    expect(initContainersOf(out)[1]?.image).toBe("ghcr.io/acme/fs-mcp:1.2")
    expect(names(containersOf(out))).toEqual(["agent"])
    expect(answer(both.lookup, out).patch).toEqual([])
  })

  it("pull secrets are unioned by name", () => {
    const out = answer(
      both.lookup,
      agentPod({ spec: { imagePullSecrets: [{ name: "regcred" }, { name: "mine" }] } }),
    )
    expect(specOf(out.pod).imagePullSecrets).toEqual([{ name: "regcred" }, { name: "mine" }])
  })

  it("takes the namespace from the Pod when the request has none", () => {
    const { namespace: _, ...request } = podRequest(agentPod())
    const out = answerRequest(both.lookup, request)
    expect(out.response.allowed).toBe(true)
    expect(names(initContainersOf(out.pod))).toEqual(["tool-fs", "tool-search"])
  })

  it("handles odd Pods: no containers, no agent, no volumes", () => {
    const pod0 = {
      metadata: { namespace: "team-a", annotations: { "langop.io/sidecar-tools": "team-a/fs" } },
      spec: {},
    }
    const out = answer(both.lookup, pod0)
    expect(out.response.allowed).toBe(true)
    expect(names(initContainersOf(out.pod))).toEqual(["tool-fs"])
    expect(specOf(out.pod).volumes).toBeUndefined()
    const workspaceOnly = { ...pod0, spec: { volumes: [{ name: "workspace", emptyDir: {} }] } }
    expect(initContainersOf(answer(both.lookup, workspaceOnly).pod)[0]?.volumeMounts).toEqual([
      { name: "workspace", mountPath: "/workspace" },
    ])
  })
})

describe("/mutate/pods: denials name the tool", () => {
  const deny = (lookup: ToolLookup<unknown>, annotation: string, spec: Record<string, unknown> = {}) => {
    const { response } = answer(
      lookup,
      agentPod({ annotations: { "langop.io/sidecar-tools": annotation }, spec }),
    )
    expect(response.allowed).toBe(false)
    expect(response.patch).toBeUndefined()
    return response
  }

  it.each([
    ["a missing tool", "team-a/fs,team-a/nope", `${PATH}: LanguageTool team-a/nope not found (ToolNotFound)`],
    [
      "a service-mode tool",
      "team-a/svc",
      `${PATH}: LanguageTool team-a/svc is not in sidecar mode (deploymentMode: service)`,
    ],
    [
      "a tool in another namespace (docs/concepts.md X-5)",
      "team-b/fs",
      `${PATH}: LanguageTool team-b/fs is in another namespace than the Pod (team-a); sidecar tools must be in the Pod's namespace (CrossNamespaceSidecarUnsupported)`,
    ],
    ["a malformed entry", "team-a/fs,fs", `${PATH}: entry "fs" is not <namespace>/<tool>`],
    [
      "a name too long for tool-<tool>",
      `team-a/${"x".repeat(59)}`,
      `${PATH}: LanguageTool team-a/${"x".repeat(59)}: container name tool-${"x".repeat(59)} is longer than 63 characters`,
    ],
  ])("%s", (_, annotation, line) => {
    const lookup = lookupOf([
      fsTool,
      tool("svc", { deploymentMode: "service" }),
      tool("fs", {}, "team-b"),
      tool("x".repeat(59)),
    ]).lookup
    const response = deny(lookup, annotation)
    expect(denyLines(response)).toEqual([line])
    expect(response.status).toMatchObject({ code: 422, reason: "Invalid" })
  })

  it("a tool volume that clashes with the Pod's volumes", () => {
    const response = deny(both.lookup, "team-a/search", { volumes: [{ name: "cache", emptyDir: {} }] })
    expect(denyLines(response)).toEqual([
      `${PATH}: volume "cache" of LanguageTool team-a/search clashes with the Pod's volume "cache" (SidecarVolumeConflict)`,
    ])
  })

  it("two tools with the same volume name", () => {
    const other = tool("other", { volumes: [{ name: "cache", emptyDir: {} }] })
    const response = deny(lookupOf([searchTool, other]).lookup, "team-a/search,team-a/other")
    expect(denyLines(response)).toEqual([
      `${PATH}: volume "cache" of LanguageTool team-a/other clashes with volume "cache" of LanguageTool team-a/search (SidecarVolumeConflict)`,
    ])
  })

  it("a tool port another container of the Pod declares", () => {
    const response = deny(both.lookup, "team-a/fs", {
      containers: [{ name: "agent", image: "agent:1", ports: [{ name: "http", containerPort: 3000 }] }],
    })
    expect(denyLines(response)).toEqual([
      `${PATH}: LanguageTool team-a/fs listens on port 3000, which the Pod's container "agent" declares (SidecarPortConflict)`,
    ])
  })

  it("two tools on the same port", () => {
    const other = tool("other", { port: 3000 })
    const response = deny(lookupOf([fsTool, other]).lookup, "team-a/fs,team-a/other")
    expect(denyLines(response)).toEqual([
      `${PATH}: LanguageTool team-a/other and LanguageTool team-a/fs both listen on port 3000 (SidecarPortConflict)`,
    ])
  })

  it("every violation at once", () => {
    const response = deny(
      lookupOf([tool("svc", { deploymentMode: "service" })]).lookup,
      "bad,team-a/nope,team-b/fs,team-a/svc",
    )
    expect(denyLines(response)).toEqual([
      `${PATH}: entry "bad" is not <namespace>/<tool>`,
      `${PATH}: LanguageTool team-b/fs is in another namespace than the Pod (team-a); sidecar tools must be in the Pod's namespace (CrossNamespaceSidecarUnsupported)`,
      `${PATH}: LanguageTool team-a/nope not found (ToolNotFound)`,
      `${PATH}: LanguageTool team-a/svc is not in sidecar mode (deploymentMode: service)`,
    ])
  })

  it("a lookup failure denies with 500, naming the tool", () => {
    const failing: ToolLookup<Error> = () => Effect.fail(new Error("connection refused"))
    const response = deny(failing, "team-a/fs")
    expect(response.status).toMatchObject({ code: 500, reason: "InternalError" })
    expect(denyLines(response)).toEqual([
      `${PATH}: LanguageTool team-a/fs could not be read: connection refused`,
    ])
  })

  it("a Pod with the annotation but no spec, or that is no object", () => {
    const noSpec = {
      metadata: { namespace: "team-a", annotations: { "langop.io/sidecar-tools": "team-a/fs" } },
    }
    expect(denyLines(answer(both.lookup, noSpec).response)).toEqual(["spec: expected a Pod spec object"])
    const notAPod = answer(both.lookup, "pod")
    expect(notAPod.response).toMatchObject({
      allowed: false,
      status: { code: 400, message: "object: expected a Pod object" },
    })
  })

  it("a Pod without any namespace", () => {
    const pod0 = { metadata: { annotations: { "langop.io/sidecar-tools": "team-a/fs" } }, spec: {} }
    const { namespace: _, ...request } = podRequest(pod0)
    expect(denyLines(answerRequest(both.lookup, request).response)).toEqual([
      "metadata.namespace: the Pod has no namespace",
    ])
  })
})
