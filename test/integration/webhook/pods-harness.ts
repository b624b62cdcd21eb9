// The operator's admission server in this process, with only the Pod webhook registered (by URL, dev CA)
// under a configuration name of its own: what the Pod-injection integration test needs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node"
import { Context, Duration, Effect, Exit, Layer, References, Scope } from "effect"
import { expect, vi } from "vitest"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { layerFromFile } from "../../../src/kube/client.ts"
import { webhookConfigurations } from "../../../src/webhook/configurations.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import { layerLive as lookupLive } from "../../../src/webhook/lookup.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"
import { WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"
import { kubeconfigPath, makeKubeConfig, uniqueName } from "../setup/context.ts"

/** One Pod review our webhook answered. */
export interface PodReview {
  readonly namespace: string
  readonly allowed: boolean
  readonly patched: boolean
}

export interface PodWebhook {
  readonly port: number
  /** Every Pod review answered so far, in order. */
  readonly reviews: (namespace: string) => ReadonlyArray<PodReview>
  /**
   * Registers a second mutating webhook, called after ours, that labels agent Pods of `namespace`
   * (`langop-test/touched: "yes"`), so the API server re-invokes ours (`reinvocationPolicy: IfNeeded`).
   */
  readonly touchAfterUs: (namespace: string) => Promise<void>
  readonly stop: () => Promise<void>
}

export const startPodWebhook = async (): Promise<PodWebhook> => {
  const dir = mkdtempSync(join(tmpdir(), "langop-pods-webhook-"))
  const scope = Effect.runSync(Scope.make())
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
  const { ca, serving, port } = await Effect.runPromise(
    Effect.gen(function* () {
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
      writeFileSync(join(dir, "tls.key"), serving.keyPem)
      writeFileSync(join(dir, "tls.crt"), serving.certPem)
      const layer = webhookServerLayer(table, { port: 0 }).pipe(
        Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
        Layer.provide(lookupLive),
        Layer.provide(layerFromFile(kubeconfigPath())),
        Layer.provide(NodeServices.layer),
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      return { ca, serving, port: Context.get(context, WebhookServer).port }
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Warn")),
  )
  const { mutating } = webhookConfigurations(table, { mode: "url", port, caBundle: ca.certPem })
  const name = `${uniqueName("langop-pods")}.langop.io`
  const admission = makeKubeConfig().makeApiClient(AdmissionregistrationV1Api)
  await admission.createMutatingWebhookConfiguration({
    body: {
      ...mutating,
      metadata: { name },
      webhooks: (mutating.webhooks ?? []).filter((w) => w.name.startsWith("mutate.pods.")),
    },
  })
  // The API server picks up a new configuration within about a second: dry-run a Pod naming a tool
  // that does not exist until our deny comes back.
  const core = makeKubeConfig().makeApiClient(CoreV1Api)
  await vi.waitFor(
    async () => {
      const denied = await core
        .createNamespacedPod({
          namespace: "default",
          dryRun: "All",
          body: {
            metadata: {
              generateName: "probe-",
              labels: { "langop.io/kind": "LanguageAgent" },
              annotations: { "langop.io/sidecar-tools": "default/langop-probe-absent" },
            },
            spec: { containers: [{ name: "agent", image: "registry.invalid/probe:1" }] },
          },
        })
        .then(
          () => "",
          (e: unknown) => String((e as { body?: unknown }).body ?? e),
        )
      expect(denied).toContain("ToolNotFound")
    },
    { timeout: 30_000, interval: 250 },
  )
  const touchers: Array<{ readonly name: string; readonly server: Server }> = []
  const touchAfterUs = async (namespace: string) => {
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
        const touched = review.request.object.metadata.labels?.["langop-test/touched"] === "yes"
        const patch = [{ op: "add", path: "/metadata/labels/langop-test~1touched", value: "yes" }]
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
    const touchPort = (server.address() as AddressInfo).port
    // Configurations are called in name order: "zz-…" comes after "langop-pods-…".
    const touchName = `zz-${uniqueName("touch")}.langop.io`
    touchers.push({ name: touchName, server })
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: touchName },
        webhooks: [
          {
            name: touchName,
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Fail",
            timeoutSeconds: 5,
            reinvocationPolicy: "Never",
            clientConfig: {
              url: `https://127.0.0.1:${touchPort}/touch`,
              caBundle: Buffer.from(ca.certPem).toString("base64"),
            },
            rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
            objectSelector: { matchLabels: { "langop.io/kind": "LanguageAgent" } },
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
          },
        ],
      },
    })
    // Wait until a dry-run Pod of the namespace comes back touched.
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
        expect(pod.metadata?.labels?.["langop-test/touched"]).toBe("yes")
      },
      { timeout: 30_000, interval: 250 },
    )
  }

  return {
    port,
    reviews: (namespace) => reviews.filter((r) => r.namespace === namespace),
    touchAfterUs,
    stop: async () => {
      for (const toucher of touchers) {
        await admission.deleteMutatingWebhookConfiguration({ name: toucher.name }).catch(() => undefined)
        toucher.server.close()
      }
      await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined)
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
