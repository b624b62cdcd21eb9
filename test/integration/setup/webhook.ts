/**
 * The admission server, in-process, registered on the shared test cluster (integration tests).
 *
 *   const webhook = await startWebhook()              // our full handler table, live lookups
 *   await webhook.waitUntilServing()                   // the API server now calls it
 *   …
 *   await webhook.close()                              // in afterAll: unregister, then stop
 *
 * What it does:
 * - mints a fresh CA and a serving certificate for 127.0.0.1 (certs/pki.ts) into a temp dir and
 *   starts the real server (src/webhook/server.ts) on 127.0.0.1 with a free port;
 * - registers the out-of-cluster configurations generated from the same table
 *   (`webhookConfigurations(table, { mode: "url", … })`) under names unique to this handle,
 *   labelled `langop.io/test-webhook=true` and annotated with this process's pid;
 * - counts the reviews answered per path (`calls`), so tests can tell the API server reached us.
 * Guarantees: `close()` deletes the configurations and waits until the API server stops calling
 * the server before stopping it, so a finished test file never leaves a `failurePolicy: Fail`
 * webhook pointing at a dead port; configurations left behind by a process that died (their pid is
 * gone) are deleted by the next `startWebhook`.
 * Options: `table` + `context` serve another table (e.g. only the Pod entry, with a test lookup);
 * `probe` is the request that must reach the webhook (default: a server-side dry-run create of a
 * LanguageCluster, which needs the CRDs installed; pass another one for a table without it).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import {
  AdmissionregistrationV1Api,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node"
import { Context, Duration, Effect, Exit, Layer, Scope } from "effect"
import { vi } from "vitest"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { layerFromFile } from "../../../src/kube/client.ts"
import { webhookConfigurations } from "../../../src/webhook/configurations.ts"
import type { HandlerTable } from "../../../src/webhook/handlers.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import { layerLive } from "../../../src/webhook/lookup.ts"
import { WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"
import { kubeconfigPath, kubectl, makeKubeConfig, uniqueName } from "./context.ts"

export const TEST_WEBHOOK_LABEL = "langop.io/test-webhook"
const PID_ANNOTATION = "langop.io/test-pid"

export interface WebhookHandle {
  readonly port: number
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string
  readonly configurationNames: { readonly mutating: string; readonly validating: string }
  /** Reviews answered so far, for one path (`/validate/languageagents`) or all. */
  readonly calls: (path?: string) => number
  /** Repeats the probe until a review reaches the server (configuration changes are asynchronous). */
  readonly waitUntilServing: () => Promise<void>
  /** Unregisters, waits until the API server stops calling, stops the server. Idempotent. */
  readonly close: () => Promise<void>
}

export interface StartOptions<R> {
  readonly table?: HandlerTable<R>
  /** What the table's handlers need (default: live lookups against the test cluster). */
  readonly context?: Layer.Layer<R>
  readonly probe?: () => Promise<unknown>
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const ignoreNotFound = (e: unknown) => {
  if (!(typeof e === "object" && e !== null && "code" in e && e.code === 404)) throw e
}

/** Deletes test configurations whose process is gone (a crashed run must not block later ones). */
const sweepStale = async (api: AdmissionregistrationV1Api) => {
  const stale = (o: { metadata?: { annotations?: Record<string, string> } }) => {
    const pid = Number(o.metadata?.annotations?.[PID_ANNOTATION] ?? "0")
    return pid > 0 && pid !== process.pid && !isAlive(pid)
  }
  const selector = { labelSelector: `${TEST_WEBHOOK_LABEL}=true` }
  for (const o of (await api.listMutatingWebhookConfiguration(selector)).items.filter(stale))
    await api.deleteMutatingWebhookConfiguration({ name: o.metadata?.name ?? "" }).catch(ignoreNotFound)
  for (const o of (await api.listValidatingWebhookConfiguration(selector)).items.filter(stale))
    await api.deleteValidatingWebhookConfiguration({ name: o.metadata?.name ?? "" }).catch(ignoreNotFound)
}

const probeCluster = (name: string) => () =>
  kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "langop.io/v1alpha1", kind: "LanguageCluster", metadata: { name } }),
  })

const counted = <R>(table: HandlerTable<R>, counts: Map<string, number>): HandlerTable<R> =>
  table.map((entry) => ({
    ...entry,
    handler: (request) => {
      counts.set(entry.path, (counts.get(entry.path) ?? 0) + 1)
      return entry.handler(request)
    },
  }))

export function startWebhook(): Promise<WebhookHandle>
export function startWebhook<R>(
  options: StartOptions<R> & { readonly table: HandlerTable<R>; readonly context: Layer.Layer<R> },
): Promise<WebhookHandle>
export async function startWebhook<R>(options: StartOptions<R> = {}): Promise<WebhookHandle> {
  const id = uniqueName("t").slice(2)
  const dir = mkdtempSync(join(tmpdir(), "langop-test-webhook-"))
  const ca = await Effect.runPromise(
    mintCa({ validFor: Duration.days(1), commonName: `langop test CA ${id}` }),
  )
  const serving = await Effect.runPromise(
    mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) }),
  )
  writeFileSync(join(dir, "tls.key"), serving.keyPem)
  writeFileSync(join(dir, "tls.crt"), serving.certPem)

  const counts = new Map<string, number>()
  const table = (options.table ?? webhookTable()) as HandlerTable<R>
  const context = (options.context ??
    layerLive.pipe(Layer.provide(layerFromFile(kubeconfigPath())))) as Layer.Layer<R>
  const serverLayer = webhookServerLayer(counted(table, counts), { port: 0 }).pipe(
    Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1), watch: false })),
    Layer.provide(Layer.mergeAll(context, NodeServices.layer)),
  )
  const scope = Effect.runSync(Scope.make())
  const built = await Effect.runPromise(Layer.buildWithScope(serverLayer, scope))
  const port = Context.get(built, WebhookServer).port

  const generated = webhookConfigurations(table, { mode: "url", port, caBundle: ca.certPem })
  const named = <T extends V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration>(c: T): T => ({
    ...c,
    metadata: {
      name: `${c.metadata?.name ?? "langop"}-${id}`,
      labels: { [TEST_WEBHOOK_LABEL]: "true" },
      annotations: { [PID_ANNOTATION]: String(process.pid) },
    },
  })
  const mutating = named(generated.mutating)
  const validating = named(generated.validating)
  const api = makeKubeConfig().makeApiClient(AdmissionregistrationV1Api)
  await sweepStale(api)
  await api.createMutatingWebhookConfiguration({ body: mutating })
  await api.createValidatingWebhookConfiguration({ body: validating })

  const calls = (path?: string) =>
    path === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(path) ?? 0)
  const probe = options.probe ?? probeCluster(`webhook-probe-${id}`)
  /** True when one probe reached the server. */
  const reached = async () => {
    const before = calls()
    await probe()
    return calls() > before
  }
  let closed = false
  return {
    port,
    caPem: ca.certPem,
    configurationNames: {
      mutating: mutating.metadata?.name ?? "",
      validating: validating.metadata?.name ?? "",
    },
    calls,
    waitUntilServing: () =>
      vi.waitFor(
        async () => {
          if (!(await reached())) throw new Error("the API server does not call the webhook yet")
        },
        { timeout: 30_000, interval: 300 },
      ),
    close: async () => {
      if (closed) return
      closed = true
      try {
        await api
          .deleteMutatingWebhookConfiguration({ name: mutating.metadata?.name ?? "" })
          .catch(ignoreNotFound)
        await api
          .deleteValidatingWebhookConfiguration({ name: validating.metadata?.name ?? "" })
          .catch(ignoreNotFound)
        // Two probes in a row that no longer reach us: the API server has dropped the configurations.
        await vi.waitFor(
          async () => {
            if ((await reached()) || (await reached()))
              throw new Error("the API server still calls the webhook")
          },
          { timeout: 30_000, interval: 300 },
        )
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
