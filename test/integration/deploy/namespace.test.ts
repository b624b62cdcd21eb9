// deploy/ under a kustomize overlay that sets another namespace, rendered by the test cluster's kubectl: every
// reference to the operator's namespace follows — object namespaces, RBAC subjects, the webhooks' Service,
// the Pod webhook's namespaceSelector, cert-manager's CA injection and the serving certificate's DNS names —
// and nothing still names langop-system or an unresolved variable.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { describe, expect, onTestFinished, test } from "vitest"
import { parseAllDocuments, stringify } from "yaml"
import { kubectl } from "../setup/context.ts"
import { repoRoot } from "./support.ts"

type Obj = {
  kind: string
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> }
  subjects?: Array<{ kind: string; namespace?: string }>
  webhooks?: Array<{
    clientConfig: { service?: { namespace: string } }
    namespaceSelector?: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }
  }>
  spec?: { dnsNames?: Array<string> }
}

const render = async (variant: string, namespace?: string): Promise<{ text: string; objects: Obj[] }> => {
  const dir = mkdtempSync(join(tmpdir(), "langop-ns-overlay-"))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(
    join(dir, "kustomization.yaml"),
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      ...(namespace !== undefined ? { namespace } : {}),
      resources: [relative(dir, join(repoRoot, "deploy", variant))],
    }),
  )
  const r = await kubectl(["kustomize", dir])
  expect(r.exitCode, r.stderr).toBe(0)
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
  return { text: r.stdout, objects }
}

const namespaceReferences = (objects: ReadonlyArray<Obj>, cert: boolean) => {
  const webhooks = objects.filter((o) => o.kind.endsWith("WebhookConfiguration"))
  const pods = webhooks
    .flatMap((o) => o.webhooks ?? [])
    .flatMap((w) => w.namespaceSelector?.matchExpressions ?? [])
    .filter((e) => e.key === "kubernetes.io/metadata.name" && e.operator === "NotIn")
  const certificate = objects.find(
    (o) => o.kind === "Certificate" && o.metadata.name === "langop-serving-cert",
  )
  return {
    namespaceObjects: objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name),
    objectNamespaces: [...new Set(objects.flatMap((o) => o.metadata.namespace ?? []))],
    subjects: [...new Set(objects.flatMap((o) => (o.subjects ?? []).flatMap((s) => s.namespace ?? [])))],
    services: [
      ...new Set(
        webhooks.flatMap((o) => (o.webhooks ?? []).flatMap((w) => w.clientConfig.service?.namespace ?? [])),
      ),
    ],
    podWebhookSkips: [...new Set(pods.flatMap((e) => e.values ?? []))].sort(),
    caInjection: cert
      ? [...new Set(webhooks.map((o) => o.metadata.annotations?.["cert-manager.io/inject-ca-from"]))]
      : [],
    dnsNames: certificate?.spec?.dnsNames ?? [],
  }
}

const expected = (ns: string, cert: boolean) => ({
  namespaceObjects: [ns],
  objectNamespaces: [ns],
  subjects: [ns],
  services: [ns],
  podWebhookSkips: ["kube-system", ns].sort(),
  caInjection: cert ? [`${ns}/langop-serving-cert`] : [],
  dnsNames: cert ? [`langop-webhook.${ns}.svc`, `langop-webhook.${ns}.svc.cluster.local`] : [],
})

describe("deploy/ with a kustomize namespace override", () => {
  test.each([
    ["cert-manager", "", true],
    ["self-managed certificates", "overlays/self-managed-certs", false],
  ] as const)("%s: every reference follows the namespace", async (_name, variant, cert) => {
    const plain = await render(variant)
    expect(namespaceReferences(plain.objects, cert)).toEqual(expected("langop-system", cert))
    expect(plain.text).not.toContain("$(LANGOP_")

    const moved = await render(variant, "agents-platform")
    expect(namespaceReferences(moved.objects, cert)).toEqual(expected("agents-platform", cert))
    expect(moved.text).not.toContain("langop-system")
    expect(moved.text).not.toContain("$(LANGOP_")
  })
})
