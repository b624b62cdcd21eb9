// The apiserver calls admission webhooks served on 127.0.0.1 through `clientConfig.url`, the way
// the operator (running outside the cluster) serves its own.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { makePki } from "../../../src/localcluster/pki.ts"
import { clusterTest as test, uniqueName } from "../setup/context.ts"

interface Review {
  readonly request: { readonly uid: string; readonly object?: { readonly data?: Record<string, string> } }
}

describe("admission webhooks", () => {
  const dir = mkdtempSync(join(tmpdir(), "langop-webhook-"))
  let port = 0
  let caPem = ""
  let calls = 0
  const server = createServer()

  beforeAll(async () => {
    // A throw-away CA and a serving cert for 127.0.0.1 (the PKI helper's apiserver cert has that SAN).
    const pki = await Effect.runPromise(makePki(dir))
    caPem = pki.caPem
    server.setSecureContext({ cert: readFileSync(pki.apiserver.cert), key: readFileSync(pki.apiserver.key) })
    server.on("request", (req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (c: string) => {
        body += c
      })
      req.on("end", () => {
        calls++
        const review = JSON.parse(body) as Review
        const deny = review.request.object?.data?.deny === "yes"
        res.setHeader("content-type", "application/json")
        res.end(
          JSON.stringify({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response: {
              uid: review.request.uid,
              allowed: !deny,
              ...(deny ? { status: { code: 422, message: "denied by the test webhook" } } : {}),
            },
          }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  test("a url webhook on 127.0.0.1 is called and can deny", async ({ kc, namespace }) => {
    const admission = kc.makeApiClient(AdmissionregistrationV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    const name = `${uniqueName("deny-cm")}.langop.io`
    await admission.createValidatingWebhookConfiguration({
      body: {
        metadata: { name },
        webhooks: [
          {
            name,
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Fail",
            timeoutSeconds: 5,
            clientConfig: {
              url: `https://127.0.0.1:${port}/validate`,
              caBundle: Buffer.from(caPem).toString("base64"),
            },
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
            rules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] },
            ],
          },
        ],
      },
    })
    try {
      // The apiserver picks up new webhook configurations asynchronously; the first allowed create
      // that reached the webhook proves it is wired.
      await expect
        .poll(
          async () => {
            const before = calls
            await core.createNamespacedConfigMap({
              namespace,
              body: { metadata: { generateName: "ok-" }, data: { deny: "no" } },
            })
            return calls > before
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(true)

      const denied = await core
        .createNamespacedConfigMap({ namespace, body: { metadata: { name: "nope" }, data: { deny: "yes" } } })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(String((denied as { body?: unknown } | undefined)?.body)).toContain("denied by the test webhook")
    } finally {
      await admission.deleteValidatingWebhookConfiguration({ name })
    }
  })
})
