// cert-manager's CRDs (staged by test/cluster/build.sh) install into the local control plane.
import { readdirSync } from "node:fs"
import { ApiextensionsV1Api, CustomObjectsApi } from "@kubernetes/client-node"
import { describe, expect, vi } from "vitest"
import { certManagerCrdsDir, kubectl, clusterTest as test } from "../setup/context.ts"

const crdNames = [
  "certificaterequests.cert-manager.io",
  "certificates.cert-manager.io",
  "challenges.acme.cert-manager.io",
  "clusterissuers.cert-manager.io",
  "issuers.cert-manager.io",
  "orders.acme.cert-manager.io",
]

describe("cert-manager CRDs", () => {
  test("apply, become Established and serve Issuers", async ({ kc, namespace }) => {
    const dir = certManagerCrdsDir()
    expect(readdirSync(dir).filter((f) => f.endsWith(".yaml"))).toHaveLength(crdNames.length)
    const applied = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", dir])
    expect(applied.stderr).toBe("")
    expect(applied.exitCode).toBe(0)

    const ext = kc.makeApiClient(ApiextensionsV1Api)
    await vi.waitFor(
      async () => {
        for (const name of crdNames) {
          const crd = await ext.readCustomResourceDefinition({ name })
          expect(crd.status?.conditions?.find((c) => c.type === "Established")?.status, name).toBe("True")
        }
      },
      { timeout: 60_000, interval: 500 },
    )

    const custom = kc.makeApiClient(CustomObjectsApi)
    // Discovery of a new group can lag Established by a moment; retry the first create.
    await vi.waitFor(
      () =>
        custom.createNamespacedCustomObject({
          group: "cert-manager.io",
          version: "v1",
          namespace,
          plural: "issuers",
          body: {
            apiVersion: "cert-manager.io/v1",
            kind: "Issuer",
            metadata: { name: "selfsigned" },
            spec: { selfSigned: {} },
          },
        }),
      { timeout: 30_000, interval: 500 },
    )
    const got = await kubectl([
      "get",
      "issuers.cert-manager.io",
      "selfsigned",
      "-n",
      namespace,
      "-o",
      "jsonpath={.spec}",
    ])
    expect(got.exitCode).toBe(0)
    expect(JSON.parse(got.stdout)).toEqual({ selfSigned: {} })
  })
})
