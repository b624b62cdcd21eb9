// The Helm chart (deploy/helm/langop, generated from the kustomize install) with a real helm binary built
// from the Go module proxy (test/cluster/helm/build.sh): it lints, renders exactly what `kubectl kustomize`
// renders for both certificate sources, puts every value where it belongs, refuses bad values naming the
// field, and `helm install` on the local control plane reaches the objects `kubectl apply -k` creates.
// Pods land on the kwok node, which fakes their containers, so the operator does not really run.
import { execFile, execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { parseAllDocuments } from "yaml"
import { certManagerCrdsDir, kubeconfigPath, kubectl } from "../setup/context.ts"
import { removeInstall, repoRoot } from "./support.ts"

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }

const chart = join(repoRoot, "deploy", "helm", "langop")
const Release = "langop"
let helmBin = ""
let helmHome = ""

const helm = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      helmBin,
      [...args],
      {
        cwd: repoRoot,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: helmHome,
          KUBECONFIG: kubeconfigPath(),
          HELM_CACHE_HOME: join(helmHome, "cache"),
          HELM_CONFIG_HOME: join(helmHome, "config"),
          HELM_DATA_HOME: join(helmHome, "data"),
        },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          stdout,
          stderr,
        }),
    )
  })

const objects = (text: string): Map<string, Obj> =>
  new Map(
    parseAllDocuments(text)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null)
      .map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]),
  )

const rendered = async (args: ReadonlyArray<string>) => {
  const r = await helm(["template", Release, chart, "--include-crds", ...args])
  expect(r.code, r.stderr).toBe(0)
  return objects(r.stdout)
}

const kustomized = async (dir: string) => {
  const r = await kubectl(["kustomize", join(repoRoot, dir)])
  expect(r.exitCode, r.stderr).toBe(0)
  return objects(r.stdout)
}

beforeAll(async () => {
  // Cold: a few minutes (once per machine, cached outside the repo); warm: instant.
  helmBin = execFileSync("bash", [join(repoRoot, "test", "cluster", "helm", "build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 1_500_000,
  }).trim()
  helmHome = mkdtempSync(join(tmpdir(), "langop-helm-"))
  const applied = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", certManagerCrdsDir()])
  expect(applied.exitCode, applied.stderr).toBe(0)
  await removeInstall()
}, 1_600_000)

afterAll(async () => {
  await helm(["uninstall", Release, "--namespace", "default", "--ignore-not-found"])
  await removeInstall()
})

describe("helm lint", () => {
  test.each([["cert-manager"], ["self"]])("passes with certificates.source=%s", async (source) => {
    const r = await helm(["lint", "--strict", chart, "--set", `certificates.source=${source}`])
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0)
  })
})

describe("helm template equals the kustomize install", () => {
  test.each([
    ["cert-manager", "deploy"],
    ["self", "deploy/overlays/self-managed-certs"],
  ])("certificates.source=%s renders exactly `kubectl kustomize %s`", async (source, dir) => {
    const fromHelm = await rendered(["--set", `certificates.source=${source}`])
    const fromKustomize = await kustomized(dir)
    expect([...fromHelm.keys()].sort()).toEqual([...fromKustomize.keys()].sort())
    for (const [key, o] of fromKustomize) expect(fromHelm.get(key), key).toEqual(o)
  })
})

describe("values", () => {
  test("namespace, image, replicas and resources reach every place that names them", async () => {
    const out = await rendered([
      "--set",
      "namespace.name=ops",
      "--set",
      "image.repository=registry.example.com/platform/langop",
      "--set",
      "image.tag=1.2.3",
      "--set",
      "replicas=3",
      "--set",
      "resources.limits.memory=1Gi",
    ])
    const text = JSON.stringify([...out.values()])
    expect(text).not.toContain("langop-system")
    expect(out.get("Namespace//ops")).toBeDefined()
    const deployment = out.get("Deployment/ops/langop-operator") as Obj & {
      spec: {
        replicas: number
        template: {
          spec: { containers: Array<{ image: string; resources: { limits: Record<string, string> } }> }
        }
      }
    }
    expect(deployment.spec.replicas).toBe(3)
    expect(deployment.spec.template.spec.containers[0]?.image).toBe(
      "registry.example.com/platform/langop:1.2.3",
    )
    expect(deployment.spec.template.spec.containers[0]?.resources.limits).toEqual({ cpu: "1", memory: "1Gi" })
    const certificate = out.get("Certificate/ops/langop-serving-cert") as Obj & {
      spec: { dnsNames: Array<string> }
    }
    expect(certificate.spec.dnsNames).toEqual([
      "langop-webhook.ops.svc",
      "langop-webhook.ops.svc.cluster.local",
    ])
    const mutating = out.get("MutatingWebhookConfiguration//langop-mutating") as Obj & {
      metadata: { annotations: Record<string, string> }
      webhooks: Array<{ clientConfig: { service: { namespace: string } } }>
    }
    expect(mutating.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe("ops/langop-serving-cert")
    for (const w of mutating.webhooks) expect(w.clientConfig.service.namespace).toBe("ops")
  })

  test("namespace.create=false leaves the Namespace to the user", async () => {
    const out = await rendered(["--set", "namespace.create=false"])
    expect([...out.values()].filter((o) => o.kind === "Namespace")).toEqual([])
  })

  test.each([
    [["--set", "certificates.source=vault"], /certificates[./]source/u],
    [["--set", "replicas=0"], /replicas/u],
    [["--set", "image.pullPolicy=Sometimes"], /pullPolicy/u],
    [["--set", "namespace.name=Not_A_Name"], /namespace[./]name/u],
  ])("%j is refused with an error naming the field", async (args, field) => {
    const r = await helm(["template", Release, chart, ...args])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(field)
  })
})

describe("helm install", () => {
  test("reaches the objects `kubectl apply -k deploy/` creates; uninstall keeps the CRDs", async () => {
    const wanted = await kustomized("deploy")
    // Discovery of the cert-manager group may lag its CRDs for a moment: retry.
    await vi.waitFor(
      async () => {
        const r = await helm(["upgrade", "--install", Release, chart, "--namespace", "default"])
        expect(r.code, r.stderr).toBe(0)
      },
      { timeout: 60_000, interval: 2_000 },
    )
    for (const [key, o] of wanted) {
      const live = await kubectl([
        "get",
        o.kind,
        o.metadata.name,
        ...(o.metadata.namespace === undefined ? [] : ["-n", o.metadata.namespace]),
        "-o",
        "json",
      ])
      expect(live.exitCode, `${key}: ${live.stderr}`).toBe(0)
      // The API server adds defaults and status, Helm its ownership labels: what was asked for is there.
      expect(JSON.parse(live.stdout), key).toMatchObject(o)
    }
    await vi.waitFor(
      async () => {
        const pods = await kubectl([
          "get",
          "pods",
          "-n",
          "langop-system",
          "-l",
          "app.kubernetes.io/name=langop-operator",
          "-o",
          "jsonpath={range .items[*]}{.spec.nodeName}{'\\n'}{end}",
        ])
        expect(
          pods.stdout
            .trim()
            .split("\n")
            .filter((n) => n !== ""),
        ).toHaveLength(2)
      },
      { timeout: 90_000, interval: 500 },
    )

    const removed = await helm([
      "uninstall",
      Release,
      "--namespace",
      "default",
      "--wait",
      "--timeout",
      "120s",
    ])
    expect(removed.code, removed.stderr).toBe(0)
    for (const [key, o] of wanted) {
      const left = await kubectl(["get", o.kind, o.metadata.name, "--ignore-not-found", "-o", "name"])
      if (o.kind === "CustomResourceDefinition") expect(left.stdout.trim(), key).not.toBe("")
      else if (o.metadata.namespace === undefined && o.kind !== "Namespace")
        expect(left.stdout.trim(), key).toBe("")
    }
  })
})
