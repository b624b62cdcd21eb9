import { describe, expect, it } from "vitest"
import type { LanguageToolSpec } from "../../../../src/api/languagetool.ts"
import {
  parseSidecarTools,
  type SIDECAR_SHAPING_FIELDS,
  type SidecarTool,
  sidecarAnnotations,
  sidecarContainer,
  sidecarHash,
  sidecarHashInput,
  sidecarSecurityContext,
  sidecarToolOf,
  sidecarToolsValue,
} from "../../../../src/domain/sidecars.ts"
import { fsTool, searchTool, tool } from "../../webhook/pods-fixtures.ts"

const fs = sidecarToolOf(fsTool)
const search = sidecarToolOf(searchTool)

// Written by hand from docs/admission.md: an array in annotation order of {name, namespace, spec}, spec keeping
// only the container-shaping fields (replicas, podLabels, nodeSelector, serviceAnnotations, egress, type,
// deploymentMode, serviceType are left out), every object's keys sorted, compact.
const goldenInput =
  '[{"name":"fs","namespace":"team-a","spec":{"env":[{"name":"ROOT","value":"/workspace"}],"image":"ghcr.io/acme/fs-mcp:1.2","imagePullPolicy":"IfNotPresent","port":3000,"resources":{"limits":{"memory":"128Mi"},"requests":{"cpu":"100m"}},"securityContext":{"fsGroup":2000,"runAsUser":1000}}},' +
  '{"name":"search","namespace":"team-a","spec":{"image":"ghcr.io/acme/search:2","imagePullPolicy":"Always","imagePullSecrets":[{"name":"regcred"}],"port":8081,"readinessProbe":{"httpGet":{"path":"/healthz","port":8081}},"volumeMounts":[{"mountPath":"/cache","name":"cache"}],"volumes":[{"emptyDir":{},"name":"cache"}]}}]'
// printf '%s' "$goldenInput" | sha256sum
const goldenHash = "fee16c0bc30c7ee6cdc3461b9ad919d81d0a830c356fb0dc12cc094ccabbe998"

describe("pod-template marks", () => {
  it("hash input and hash match the hand-computed golden value", () => {
    expect(sidecarHashInput([fs, search])).toBe(goldenInput)
    expect(sidecarHash([fs, search])).toBe(goldenHash)
  })

  it("annotations: both marks in toolRefs order, none without sidecar tools", () => {
    expect(sidecarAnnotations([fs, search])).toEqual({
      "langop.io/sidecar-tools": "team-a/fs,team-a/search",
      "langop.io/sidecar-hash": goldenHash,
    })
    expect(sidecarAnnotations([])).toEqual({})
    expect(sidecarToolsValue([search, fs])).toBe("team-a/search,team-a/fs")
  })

  it("the hash follows the order of the tools", () => {
    expect(sidecarHash([search, fs])).not.toBe(sidecarHash([fs, search]))
  })

  it("the hash ignores key order and fields that do not shape the container", () => {
    const reordered: SidecarTool = {
      namespace: "team-a",
      name: "fs",
      spec: Object.fromEntries(Object.entries(fsTool.spec).reverse()) as LanguageToolSpec,
    }
    expect(sidecarHash([reordered])).toBe(sidecarHash([fs]))
    const other = tool("fs", {
      image: "ghcr.io/acme/fs-mcp:1.2",
      port: 3000,
      env: [{ name: "ROOT", value: "/workspace" }],
      resources: { requests: { cpu: "100m" }, limits: { memory: "128Mi" } },
      securityContext: { fsGroup: 2000, runAsUser: 1000 },
      replicas: 1,
      type: "openapi",
      serviceType: "NodePort",
      tolerations: [{ key: "k", operator: "Exists" }],
    })
    expect(sidecarHash([sidecarToolOf(other)])).toBe(sidecarHash([fs]))
  })

  const changes: Record<(typeof SIDECAR_SHAPING_FIELDS)[number], unknown> = {
    image: "ghcr.io/acme/fs-mcp:1.3",
    imagePullPolicy: "Never",
    port: 3001,
    env: [{ name: "ROOT", value: "/data" }],
    envFrom: [{ secretRef: { name: "s" } }],
    resources: { limits: { memory: "256Mi" } },
    volumeMounts: [{ name: "v", mountPath: "/v" }],
    volumes: [{ name: "v", emptyDir: {} }],
    imagePullSecrets: [{ name: "other" }],
    livenessProbe: { tcpSocket: { port: 3000 } },
    readinessProbe: { tcpSocket: { port: 3000 } },
    startupProbe: { tcpSocket: { port: 3000 } },
    securityContext: { runAsUser: 1001 },
  }
  it.each(Object.entries(changes))("a change of %s changes the hash", (field, value) => {
    const changed: SidecarTool = { ...fs, spec: { ...fs.spec, [field]: value } }
    expect(sidecarHash([changed])).not.toBe(sidecarHash([fs]))
  })

  it("the hash covers the tool's name and namespace", () => {
    expect(sidecarHash([{ ...fs, name: "fs2" }])).not.toBe(sidecarHash([fs]))
    expect(sidecarHash([{ ...fs, namespace: "team-b" }])).not.toBe(sidecarHash([fs]))
  })
})

describe("parseSidecarTools", () => {
  it.each([
    [undefined, [], []],
    ["", [], []],
    ["  ", [], []],
    [",,", [], []],
    ["team-a/fs", ["team-a/fs"], []],
    [" team-a/fs , team-a/search ", ["team-a/fs", "team-a/search"], []],
    ["team-a/fs,team-a/fs", ["team-a/fs"], []],
    ["fs", [], ['entry "fs" is not <namespace>/<tool>']],
    ["a/b/c,team-a/fs", ["team-a/fs"], ['entry "a/b/c" is not <namespace>/<tool>']],
    ["Team/fs", [], ['entry "Team/fs" is not <namespace>/<tool>']],
    ["team/", [], ['entry "team/" is not <namespace>/<tool>']],
    ["/fs", [], ['entry "/fs" is not <namespace>/<tool>']],
  ])("%j", (value, refs, problems) => {
    const parsed = parseSidecarTools(value)
    expect(parsed.refs.map((r) => `${r.namespace}/${r.name}`)).toEqual(refs)
    expect(parsed.problems).toEqual(problems)
  })
})

describe("sidecarContainer", () => {
  it("builds the native sidecar of docs/languageagent.md §Sidecars", () => {
    expect(sidecarContainer(fs, "/data")).toEqual({
      name: "tool-fs",
      image: "ghcr.io/acme/fs-mcp:1.2",
      imagePullPolicy: "IfNotPresent",
      restartPolicy: "Always",
      ports: [{ name: "mcp", containerPort: 3000, protocol: "TCP" }],
      env: [
        { name: "ROOT", value: "/workspace" },
        { name: "PORT", value: "3000" },
      ],
      resources: { limits: { memory: "128Mi" }, requests: { cpu: "100m" } },
      volumeMounts: [{ name: "workspace", mountPath: "/data" }],
      readinessProbe: {
        tcpSocket: { port: 3000 },
        initialDelaySeconds: 2,
        periodSeconds: 2,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
      startupProbe: { tcpSocket: { port: 3000 }, periodSeconds: 2, failureThreshold: 30 },
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
        runAsUser: 1000,
      },
    })
  })

  it("workspace mount first, then the tool's mounts; none without a workspace", () => {
    expect(sidecarContainer(search, "/workspace").volumeMounts).toEqual([
      { name: "workspace", mountPath: "/workspace" },
      { name: "cache", mountPath: "/cache" },
    ])
    expect(sidecarContainer(search, undefined).volumeMounts).toEqual([{ name: "cache", mountPath: "/cache" }])
    expect(sidecarContainer(fs, undefined)).not.toHaveProperty("volumeMounts")
  })

  it("keeps the tool's probes, envFrom and a PORT it sets itself", () => {
    const t = sidecarToolOf(
      tool("custom", {
        port: 9000,
        env: [
          { name: "PORT", value: "9999" },
          { name: "A", value: "1" },
        ],
        envFrom: [{ configMapRef: { name: "cfg" } }],
        livenessProbe: { httpGet: { path: "/live", port: 9000 } },
        readinessProbe: { httpGet: { path: "/ready", port: 9000 } },
        startupProbe: { exec: { command: ["true"] } },
      }),
    )
    const c = sidecarContainer(t, undefined)
    expect(c.env).toEqual([
      { name: "PORT", value: "9999" },
      { name: "A", value: "1" },
    ])
    expect(c.envFrom).toEqual([{ configMapRef: { name: "cfg" } }])
    expect(c.livenessProbe).toEqual({ httpGet: { path: "/live", port: 9000 } })
    expect(c.readinessProbe).toEqual({ httpGet: { path: "/ready", port: 9000 } })
    expect(c.startupProbe).toEqual({ exec: { command: ["true"] } })
    expect(c.ports).toEqual([{ name: "mcp", containerPort: 9000, protocol: "TCP" }])
  })

  it("no liveness probe by default, no resources or envFrom when the tool has none", () => {
    const c = sidecarContainer(sidecarToolOf(tool("bare")), undefined)
    expect(c).not.toHaveProperty("livenessProbe")
    expect(c).not.toHaveProperty("resources")
    expect(c).not.toHaveProperty("envFrom")
    expect(c.env).toEqual([{ name: "PORT", value: "8080" }])
    expect(c.imagePullPolicy).toBe("IfNotPresent")
  })
})

describe("sidecarSecurityContext: restricted where the tool is silent, the tool's values unchanged", () => {
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  }
  it.each([
    ["absent", undefined, restricted],
    [
      "pod-only fields do not apply to a container",
      { fsGroup: 1, supplementalGroups: [2], sysctls: [] },
      restricted,
    ],
    [
      "runAsUser and runAsGroup are kept",
      { runAsUser: 10, runAsGroup: 0 },
      { ...restricted, runAsUser: 10, runAsGroup: 0 },
    ],
    [
      "runAsUser 0 is kept, and runAsNonRoot is then not defaulted (the kubelet would refuse to start it)",
      { runAsUser: 0 },
      {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
        runAsUser: 0,
      },
    ],
    ["runAsNonRoot false is kept", { runAsNonRoot: false }, { ...restricted, runAsNonRoot: false }],
    [
      "a Localhost seccomp profile is kept",
      { seccompProfile: { type: "Localhost", localhostProfile: "p.json" } },
      { ...restricted, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } },
    ],
    [
      "an Unconfined seccomp profile is kept",
      { seccompProfile: { type: "Unconfined" } },
      { ...restricted, seccompProfile: { type: "Unconfined" } },
    ],
    [
      "SELinux level and an allowed type are kept",
      { seLinuxOptions: { level: "s0:c1", type: "container_t" } },
      { ...restricted, seLinuxOptions: { level: "s0:c1", type: "container_t" } },
    ],
    [
      "an SELinux user and a foreign type are kept",
      { seLinuxOptions: { user: "root", type: "spc_t" } },
      { ...restricted, seLinuxOptions: { user: "root", type: "spc_t" } },
    ],
    [
      "windowsOptions are kept, hostProcess included",
      { windowsOptions: { runAsUserName: "app", hostProcess: true } },
      { ...restricted, windowsOptions: { runAsUserName: "app", hostProcess: true } },
    ],
    [
      "an AppArmor profile is kept",
      { appArmorProfile: { type: "Unconfined" } },
      { ...restricted, appArmorProfile: { type: "Unconfined" } },
    ],
  ] as const)("%s", (_, given, expected) => {
    expect(sidecarSecurityContext(given)).toEqual(expected)
  })
})
