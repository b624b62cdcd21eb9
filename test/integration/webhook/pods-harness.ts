// Helpers of the Pod-injection integration test, on top of the shared webhook setup
// (setup/webhook.ts):
// - `recordedTable()`: the operator's full handler table whose Pod entry also records each answer
//   (allowed, patched), so a test can see what the API server's (re-)invocations got back;
// - `touchAfterUs(namespace)`: a second mutating webhook, called after ours (configurations are called
//   in name order), that labels the agent Pods of one namespace, so the API server re-invokes ours
//   (`reinvocationPolicy: IfNeeded`).
import { createServer } from "node:https"
import type { AddressInfo } from "node:net"
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node"
import { Duration, Effect } from "effect"
import { expect, vi } from "vitest"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import type { HandlerTable } from "../../../src/webhook/handlers.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import type { WebhookLookup } from "../../../src/webhook/lookup.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"
import { makeKubeConfig, uniqueName } from "../setup/context.ts"

/** One Pod review our webhook answered. */
export interface PodReview {
  readonly namespace: string
  readonly allowed: boolean
  readonly patched: boolean
}

export const recordedTable = (): {
  readonly table: HandlerTable<WebhookLookup>
  readonly reviews: (namespace: string) => ReadonlyArray<PodReview>
} => {
  const reviews: Array<PodReview> = []
  const table = webhookTable().map((entry) =>
    entry.kind !== "Pod"
      ? entry
      : {
          ...entry,
          handler: (request: AdmissionRequest) =>
            Effect.tap(entry.handler(request), (response) =>
              Effect.sync(() =>
                reviews.push({
                  namespace: request.namespace ?? "",
                  allowed: response.allowed,
                  patched: response.patch !== undefined,
                }),
              ),
            ),
        },
  )
  return { table, reviews: (namespace) => reviews.filter((r) => r.namespace === namespace) }
}

export const TOUCHED_LABEL = "langop-test/touched"

/** Registers the second webhook for `namespace`, waits until it answers; returns its `close`. */
export const touchAfterUs = async (namespace: string): Promise<() => Promise<void>> => {
  const { ca, serving } = await Effect.runPromise(
    Effect.gen(function* () {
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
      return { ca, serving }
    }),
  )
  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      body += chunk
    })
    req.on("end", () => {
      const review = JSON.parse(body) as {
        request: { uid: string; object: { metadata: { labels?: Record<string, string> } } }
      }
      const touched = review.request.object.metadata.labels?.[TOUCHED_LABEL] === "yes"
      const patch = [
        { op: "add", path: `/metadata/labels/${TOUCHED_LABEL.replace("/", "~1")}`, value: "yes" },
      ]
      res.setHeader("content-type", "application/json")
      res.end(
        JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: {
            uid: review.request.uid,
            allowed: true,
            ...(touched
              ? {}
              : { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }),
          },
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  const name = `zz-${uniqueName("touch")}.langop.io`
  const admission = makeKubeConfig().makeApiClient(AdmissionregistrationV1Api)
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name },
      webhooks: [
        {
          name,
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          failurePolicy: "Fail",
          timeoutSeconds: 5,
          reinvocationPolicy: "Never",
          clientConfig: {
            url: `https://127.0.0.1:${port}/touch`,
            caBundle: Buffer.from(ca.certPem).toString("base64"),
          },
          rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
          objectSelector: { matchLabels: { "langop.io/kind": "LanguageAgent" } },
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        },
      ],
    },
  })
  // Configuration changes reach the API server asynchronously: dry-run until a Pod comes back touched.
  const core = makeKubeConfig().makeApiClient(CoreV1Api)
  await vi.waitFor(
    async () => {
      const pod = await core.createNamespacedPod({
        namespace,
        dryRun: "All",
        body: {
          metadata: { generateName: "probe-", labels: { "langop.io/kind": "LanguageAgent" } },
          spec: { containers: [{ name: "agent", image: "registry.invalid/probe:1" }] },
        },
      })
      expect(pod.metadata?.labels?.[TOUCHED_LABEL]).toBe("yes")
    },
    { timeout: 30_000, interval: 250 },
  )
  return async () => {
    await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined)
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
