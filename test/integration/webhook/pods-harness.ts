// The operator's admission server in this process, with only the Pod webhook registered (by URL, dev CA)
// under a configuration name of its own: what the Pod-injection integration test needs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
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
import { WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"
import { kubeconfigPath, makeKubeConfig, uniqueName } from "../setup/context.ts"

export interface PodWebhook {
  readonly port: number
  readonly stop: () => Promise<void>
}

export const startPodWebhook = async (): Promise<PodWebhook> => {
  const dir = mkdtempSync(join(tmpdir(), "langop-pods-webhook-"))
  const scope = Effect.runSync(Scope.make())
  const { ca, port } = await Effect.runPromise(
    Effect.gen(function* () {
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
      writeFileSync(join(dir, "tls.key"), serving.keyPem)
      writeFileSync(join(dir, "tls.crt"), serving.certPem)
      const layer = webhookServerLayer(webhookTable(), { port: 0 }).pipe(
        Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
        Layer.provide(lookupLive),
        Layer.provide(layerFromFile(kubeconfigPath())),
        Layer.provide(NodeServices.layer),
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      return { ca, port: Context.get(context, WebhookServer).port }
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Warn")),
  )
  const { mutating } = webhookConfigurations(webhookTable(), { mode: "url", port, caBundle: ca.certPem })
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
  return {
    port,
    stop: async () => {
      await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined)
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
