// What `npm start` decides before it starts anything: where the cluster is, whether the ports are free,
// which sentence a failure becomes, what the examples expect, and when a CRD counts as stale.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { allKinds } from "../../../src/api/index.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { Transient, Unauthorized } from "../../../src/kube/errors.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { ClusterBuildError } from "../../../src/localcluster/errors.ts"
import { findClusterAccess } from "../../../src/operator/access.ts"
import { settingProblem } from "../../../src/operator/errors.ts"
import { crdIsCurrent } from "../../../src/operator/install.ts"
import { examplesNamespace, localClusterProblem } from "../../../src/operator/local.ts"
import { checkPorts, reachProblem, requiredPermissions } from "../../../src/operator/preflight.ts"
import { deployedComponents } from "../../../src/operator/rbac.ts"
import { settingsFrom } from "../../../src/settings.ts"

const kubeconfig = (server: string) => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: ctx, context: { cluster: c, user: u } }]
current-context: ctx
`

describe("findClusterAccess", () => {
  const dir = mkdtempSync(join(tmpdir(), "access-"))
  const emptyHome = join(dir, "home-empty")
  mkdirSync(emptyHome)

  it.effect("no KUBECONFIG, no ~/.kube/config, not in a Pod: none (local control plane)", () =>
    Effect.gen(function* () {
      const access = yield* findClusterAccess({ HOME: emptyHome }, join(dir, "no-token"))
      expect(access.mode).toBe("none")
      if (access.mode === "none") expect(access.checked).toContain(join(emptyHome, ".kube", "config"))
    }),
  )

  it.effect("a KUBECONFIG that names no existing file counts as none, and says so", () =>
    Effect.gen(function* () {
      const access = yield* findClusterAccess({ KUBECONFIG: join(dir, "missing"), HOME: emptyHome })
      expect(access).toMatchObject({
        mode: "none",
        checked: `KUBECONFIG=${join(dir, "missing")} names no existing file`,
      })
    }),
  )

  it.effect("~/.kube/config and KUBECONFIG are found, KUBECONFIG first", () =>
    Effect.gen(function* () {
      const home = join(dir, "home")
      mkdirSync(join(home, ".kube"), { recursive: true })
      writeFileSync(join(home, ".kube", "config"), kubeconfig("https://home.example:6443"))
      const fromHome = yield* findClusterAccess({ HOME: home })
      expect(fromHome).toMatchObject({
        mode: "kubeconfig",
        server: "https://home.example:6443",
        context: "ctx",
      })
      writeFileSync(join(dir, "kc"), kubeconfig("https://env.example:6443"))
      const fromEnv = yield* findClusterAccess({ HOME: home, KUBECONFIG: join(dir, "kc") })
      expect(fromEnv).toMatchObject({
        mode: "kubeconfig",
        server: "https://env.example:6443",
        source: join(dir, "kc"),
      })
    }),
  )

  it.effect("an unreadable kubeconfig is an error, not a silent local cluster", () =>
    Effect.gen(function* () {
      writeFileSync(join(dir, "broken"), "clusters: [ {")
      const e = yield* Effect.flip(findClusterAccess({ KUBECONFIG: join(dir, "broken"), HOME: emptyHome }))
      expect(e.message).toMatch(/^cannot read the kubeconfig .*broken/u)
    }),
  )

  it.effect("in a Pod: in-cluster credentials", () =>
    Effect.gen(function* () {
      const claims = Buffer.from(
        JSON.stringify({ sub: "system:serviceaccount:langop-system:langop-operator" }),
      )
      writeFileSync(join(dir, "token"), `e30.${claims.toString("base64url")}.sig`)
      const access = yield* findClusterAccess(
        { HOME: emptyHome, KUBERNETES_SERVICE_HOST: "10.0.0.1" },
        join(dir, "token"),
      )
      expect(access).toMatchObject({
        mode: "in-cluster",
        identity: "system:serviceaccount:langop-system:langop-operator",
      })
    }),
  )
})

describe("startup sentences", () => {
  it.live("a taken port names the address, the server and the setting", () =>
    Effect.gen(function* () {
      const server = yield* Effect.promise(
        () =>
          new Promise<Server>((resolve) => {
            const s = createServer().listen(0, "127.0.0.1", () => resolve(s))
          }),
      )
      const port = (server.address() as { port: number }).port
      const settings = yield* settingsFrom({
        LANGOP_HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${port}`,
        LANGOP_WEBHOOK_PORT: "0",
      })
      const e = yield* Effect.flip(checkPorts({ ...settings, metricsBindAddress: undefined }))
      server.close()
      expect(e.message).toBe(
        `127.0.0.1:${port} (health probes) is already in use: stop the process listening there or set LANGOP_HEALTH_PROBE_BIND_ADDRESS to a free port.`,
      )
    }),
  )

  it("unreachable and unauthorised API servers", () => {
    expect(
      reachProblem(
        "https://x:6443",
        new Transient({ code: 0, request: "POST /x", message: "connect ECONNREFUSED" }),
      ),
    ).toMatch(
      /^cannot reach the Kubernetes API server at https:\/\/x:6443 \(connect ECONNREFUSED\): start the cluster or point KUBECONFIG/u,
    )
    expect(
      reachProblem("https://x", new Unauthorized({ code: 401, request: "r", message: "Unauthorized" })),
    ).toMatch(/rejected the credentials/u)
  })

  it("a malformed setting names the variable", () => {
    expect(
      settingProblem(
        'SchemaError(Expected a string representing a finite number\n  at ["LANGOP_WEBHOOK_PORT"])',
      ),
    ).toBe(
      "invalid setting LANGOP_WEBHOOK_PORT: Expected a string representing a finite number; fix the environment variable (src/settings.ts lists every setting).",
    )
  })

  it("no Go for the local control plane", () => {
    const e = new ClusterBuildError({ message: "build.sh failed", exitCode: 1 })
    expect(localClusterProblem(e, false)).toMatch(
      /^no Go toolchain on PATH: .*install Go, or point KUBECONFIG/u,
    )
    expect(localClusterProblem(e, true)).toMatch(/^building the local control plane failed/u)
  })

  it.effect("the permissions checked at startup follow the settings", () =>
    Effect.gen(function* () {
      const base = yield* settingsFrom({})
      const all = requiredPermissions(base, deployedComponents())
      expect(all.some((p) => p.resource === "leases" && p.namespace === "langop-system")).toBe(true)
      expect(all.some((p) => p.resource === "mutatingwebhookconfigurations")).toBe(false)
      const self = requiredPermissions(
        { ...base, certSource: "self", leaderElect: false },
        deployedComponents(),
      )
      expect(self.some((p) => p.resource === "leases")).toBe(false)
      expect(
        self.some((p) => p.resource === "secrets" && p.verb === "update" && p.name === "langop-webhook-tls"),
      ).toBe(true)
    }),
  )
})

describe("examples and CRDs", () => {
  it("the examples expect namespace demo, provided by LanguageCluster demo", () => {
    expect(examplesNamespace()).toEqual({ cluster: "demo", namespace: "demo" })
  })

  it("a CRD is current when every generated field matches, whatever the server adds", () => {
    const kind = allKinds[0]
    if (kind === undefined) return
    const desired = crdFor(kind) as unknown as KubeObject & { spec: Record<string, unknown> }
    const live = { ...desired, spec: { ...desired.spec, conversion: { strategy: "None" } }, status: {} }
    expect(crdIsCurrent(desired, live)).toBe(true)
    const stale = { ...live, spec: { ...live.spec, versions: [] } }
    expect(crdIsCurrent(desired, stale)).toBe(false)
  })
})
