// Fixtures for the sidecar and Pod-webhook unit tests: LanguageTools are decoded with the API schema, so
// schema defaults (imagePullPolicy, port, deploymentMode, …) are filled exactly as in the informer cache.
import { Effect, Schema } from "effect"
import { LanguageTool } from "../../../src/api/languagetool.ts"
import type { ToolLookup } from "../../../src/webhook/pods.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"

const decodeTool = Schema.decodeUnknownSync(LanguageTool)

/** A decoded LanguageTool `namespace/name`, sidecar mode unless `spec.deploymentMode` says otherwise. */
export const tool = (name: string, spec: Record<string, unknown> = {}, namespace = "team-a"): LanguageTool =>
  decodeTool({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageTool",
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: "1" },
    spec: { image: `ghcr.io/acme/${name}:1`, deploymentMode: "sidecar", ...spec },
  })

/** The golden pair of sidecars-test: a filesystem tool and a search tool with a volume. */
export const fsTool = tool("fs", {
  image: "ghcr.io/acme/fs-mcp:1.2",
  port: 3000,
  env: [{ name: "ROOT", value: "/workspace" }],
  resources: { limits: { memory: "128Mi" }, requests: { cpu: "100m" } },
  securityContext: { runAsUser: 1000, fsGroup: 2000 },
  // Fields that do not shape the container (never hashed):
  replicas: 3,
  podLabels: { team: "a" },
  nodeSelector: { disk: "ssd" },
  serviceAnnotations: { x: "y" },
})
export const searchTool = tool("search", {
  image: "ghcr.io/acme/search:2",
  imagePullPolicy: "Always",
  port: 8081,
  volumes: [{ name: "cache", emptyDir: {} }],
  volumeMounts: [{ name: "cache", mountPath: "/cache" }],
  imagePullSecrets: [{ name: "regcred" }],
  readinessProbe: { httpGet: { path: "/healthz", port: 8081 } },
  egress: [{ to: { dns: ["api.example.com"] }, ports: [{ port: 443 }] }],
})

/** A lookup over a fixed set of tools; counts calls. */
export const lookupOf = (tools: ReadonlyArray<LanguageTool>) => {
  const calls: Array<string> = []
  const lookup: ToolLookup = (namespace, name) =>
    Effect.sync(() => {
      calls.push(`${namespace}/${name}`)
      return tools.find((t) => t.metadata.namespace === namespace && t.metadata.name === name)
    })
  return { lookup, calls }
}

/** An agent Pod as the ReplicaSet controller creates it from the agent controller's template. */
export const agentPod = (
  options: {
    readonly annotations?: Record<string, string>
    readonly workspacePath?: string | undefined
    readonly spec?: Record<string, unknown>
  } = {},
) => {
  const workspacePath = "workspacePath" in options ? options.workspacePath : "/workspace"
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "agent-7d9f-",
      namespace: "team-a",
      labels: { "langop.io/kind": "LanguageAgent", "app.kubernetes.io/name": "agent" },
      annotations: {
        "langop.io/config-hash": "abc",
        "langop.io/sidecar-tools": "team-a/fs,team-a/search",
        "langop.io/sidecar-hash": "fee16c0b",
        ...options.annotations,
      },
    },
    spec: {
      containers: [
        {
          name: "agent",
          image: "ghcr.io/acme/agent:1",
          volumeMounts: [
            ...(workspacePath === undefined ? [] : [{ name: "workspace", mountPath: workspacePath }]),
            { name: "agent-config", mountPath: "/etc/langop/agent", readOnly: true },
          ],
        },
      ],
      volumes: [
        ...(workspacePath === undefined
          ? []
          : [{ name: "workspace", persistentVolumeClaim: { claimName: "agent-workspace" } }]),
        { name: "agent-config", configMap: { name: "agent-agent" } },
      ],
      ...options.spec,
    },
  }
}

/** A Pod CREATE review request for `object`. */
export const podRequest = (object: unknown, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: "8d3e1c2a-0000-4000-8000-000000000001",
  kind: { group: "", version: "v1", kind: "Pod" },
  resource: { group: "", version: "v1", resource: "pods" },
  namespace: "team-a",
  operation: "CREATE",
  object,
  dryRun: false,
  ...overrides,
})
