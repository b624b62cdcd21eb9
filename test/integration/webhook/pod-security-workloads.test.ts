// Pod security end to end on the control plane: the admission webhook, the tool and client controllers,
// and the API server's own Pod Security admission on the Pods the ReplicaSet controller creates (kwok
// runs them). Defaults pass `restricted`; a relaxation the namespace allows reaches the Pods unchanged
// (before, runAsUser 0 was denied everywhere and a privileged client container got a Deployment the API
// server rejected, its allowPrivilegeEscalation forced to false).
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import {
  clientControllerOptionsFromSettings,
  languageClientController,
} from "../../../src/controllers/languageclient/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { kubectl, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any

const poll = { timeout: 90_000, interval: 500 } as const
const settings = Effect.runSync(settingsFrom({}))
const namespaces = new Set<string>()

const apply = async (namespace: string, object: Record<string, unknown>) => {
  namespaces.add(namespace)
  return kubectl(["apply", "-n", namespace, "-f", "-"], { input: JSON.stringify(object) })
}

const label = async (namespace: string, level: string) =>
  expect(
    (await kubectl(["label", "namespace", namespace, `pod-security.kubernetes.io/enforce=${level}`]))
      .exitCode,
  ).toBe(0)

/** A Pod of the Deployment `name`, once the ReplicaSet controller got one past admission. */
const podOf = (namespace: string, name: string): Promise<Loose> =>
  vi.waitFor(async () => {
    const got = await kubectl([
      "get",
      "pods",
      "-n",
      namespace,
      "-l",
      `app.kubernetes.io/name=${name}`,
      "-o",
      "json",
    ])
    const items = (JSON.parse(got.stdout) as { items: Array<Loose> }).items
    expect(items.length).toBeGreaterThan(0)
    return items[0]
  }, poll)

const manifest = (kind: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name },
  spec,
})

describe("pod security: generated Pods under the API server's Pod Security admission", () => {
  let webhook: WebhookHandle | undefined
  let operator: RunningOperator | undefined

  beforeAll(async () => {
    await installCrds()
    webhook = await startWebhook()
    await webhook.waitUntilServing()
    const tools = toolControllerOptionsFromSettings(settings)
    if (Result.isFailure(tools)) throw new Error(tools.failure)
    operator = await startOperator([
      languageToolController({ ...tools.success, discovery: undefined }),
      languageClientController(clientControllerOptionsFromSettings(settings)),
    ])
  })
  afterAll(async () => {
    // Delete while the operator runs, so finalizers are removed.
    for (const ns of namespaces)
      for (const kind of ["languagetools", "languageclients"])
        await kubectl(["delete", kind, "--all", "-n", ns, "--wait=true", "--timeout=60s"])
    await operator?.stop()
    await webhook?.close()
  })

  test("restricted namespace: a tool that sets nothing gets Pods the API server admits", async ({
    namespace,
  }) => {
    await label(namespace, "restricted")
    const applied = await apply(
      namespace,
      manifest("LanguageTool", "fetch", { image: "registry.invalid/fetch:1" }),
    )
    expect(applied.exitCode, applied.stderr).toBe(0)
    const pod = await podOf(namespace, "fetch")
    expect(pod.spec.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    })
    expect(pod.spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    })
  })

  test("baseline namespace: runAsUser 0 is admitted with a warning and reaches the Pods unchanged", async ({
    namespace,
  }) => {
    await label(namespace, "baseline")
    const applied = await apply(
      namespace,
      manifest("LanguageTool", "rooted", {
        image: "registry.invalid/rooted:1",
        securityContext: { runAsUser: 0 },
      }),
    )
    expect(applied.exitCode, applied.stderr).toBe(0)
    expect(applied.stderr).toContain(
      `Warning: spec.securityContext.runAsUser: runAsUser: 0 relaxes the restricted Pod Security Standard (Running as Non-root user); passed to the Pods unchanged because namespace "${namespace}" enforces "baseline"`,
    )
    const pod = await podOf(namespace, "rooted")
    // No runAsNonRoot default beside uid 0: the kubelet would refuse to start the container.
    expect(pod.spec.securityContext).toEqual({ runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } })
  })

  test("unlabelled namespace: a client's privileged container and added capability reach the Pods", async ({
    namespace,
  }) => {
    await apply(namespace, manifest("LanguageModel", "gpt", { provider: "openai", modelName: "gpt-4o-mini" }))
    const applied = await apply(
      namespace,
      manifest("LanguageClient", "chat", {
        image: "registry.invalid/chat:1",
        modelRefs: [{ name: "gpt" }],
        containerSecurityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
      }),
    )
    expect(applied.exitCode, applied.stderr).toBe(0)
    expect(applied.stderr).toContain(
      "Warning: spec.containerSecurityContext.privileged: privileged: true relaxes the restricted Pod Security Standard (Privileged Containers)",
    )
    const pod = await podOf(namespace, "chat")
    expect(pod.spec.containers[0].securityContext).toEqual({
      privileged: true,
      capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
    })
  })
})
