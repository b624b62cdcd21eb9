// Helpers for installing deploy/ into the shared test cluster without disturbing other test files.
//
// The in-cluster webhook configurations point at a Service that cannot answer on kwok (no Pod really
// runs) and use failurePolicy Fail: while they exist, every matching request would fail. So the tests
// install deploy/ through a tiny kustomize overlay that adds an objectSelector (label
// `langop.io/deploy-test=<id>`, which no other test sets) to every webhook, and delete the configurations
// first thing in cleanup.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { stringify } from "yaml"
import { inClusterWebhookObjects } from "../../../src/operator/manifests.ts"
import { kubectl } from "../setup/context.ts"

export const repoRoot = join(import.meta.dirname, "..", "..", "..")
export const TestSelectorLabel = "langop.io/deploy-test"

interface Webhook {
  readonly objectSelector?: { readonly matchLabels?: Record<string, string> }
}

const selectorOps = (webhooks: ReadonlyArray<Webhook>, id: string) =>
  webhooks.map((w, i) =>
    w.objectSelector?.matchLabels !== undefined
      ? { op: "add", path: `/webhooks/${i}/objectSelector/matchLabels/langop.io~1deploy-test`, value: id }
      : {
          op: "add",
          path: `/webhooks/${i}/objectSelector`,
          value: { matchLabels: { [TestSelectorLabel]: id } },
        },
  )

/**
 * A kustomize overlay (in a temp dir) of `deploy/<variant>` whose only change is the test objectSelector
 * on every webhook. Kustomize accepts a base outside the overlay's root when given as a relative path.
 */
export const testOverlay = (variant: "" | "overlays/self-managed-certs", id: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "langop-deploy-"))
  const [mutating, validating] = inClusterWebhookObjects(
    variant === "" ? "cert-manager" : "self",
  ) as ReadonlyArray<{
    webhooks: ReadonlyArray<Webhook>
  }>
  const patch = (kind: string, name: string, webhooks: ReadonlyArray<Webhook>) => ({
    target: { kind, name },
    patch: JSON.stringify(selectorOps(webhooks, id)),
  })
  writeFileSync(
    join(dir, "kustomization.yaml"),
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: [relative(dir, join(repoRoot, "deploy", variant))],
      patches: [
        patch("MutatingWebhookConfiguration", "langop-mutating", mutating?.webhooks ?? []),
        patch("ValidatingWebhookConfiguration", "langop-validating", validating?.webhooks ?? []),
      ],
    }),
  )
  return dir
}

/** Removes what installing deploy/ created, webhook configurations first; keeps the CRDs (shared). */
export const removeInstall = async (): Promise<void> => {
  await kubectl([
    "delete",
    "mutatingwebhookconfiguration/langop-mutating",
    "validatingwebhookconfiguration/langop-validating",
    "--ignore-not-found",
  ])
  await kubectl([
    "delete",
    "clusterrole/langop-operator",
    "clusterrolebinding/langop-operator",
    "clusterrole/langop-self-certs",
    "clusterrolebinding/langop-self-certs",
    "--ignore-not-found",
  ])
  await kubectl(["delete", "namespace", "langop-system", "--ignore-not-found", "--timeout=120s"])
}

const LANGOP_KINDS =
  "languageclusters,languageagents,languagetools,languagemodels,languagepersonas,languageclients"

/**
 * Deletes this test's objects of our kinds (by label) and waits; call it while the operator still runs,
 * since our finalizers are removed by the operator. Anything still there afterwards (the operator had
 * stopped) has its finalizers stripped, so no namespace is left terminating forever.
 */
export const deleteLangopObjects = async (selector: string): Promise<void> => {
  await kubectl(["delete", LANGOP_KINDS, "-A", "-l", selector, "--timeout=60s", "--ignore-not-found"])
  const left = await kubectl(["get", LANGOP_KINDS, "-A", "-l", selector, "-o", "json"])
  const items =
    left.exitCode === 0
      ? (
          JSON.parse(left.stdout) as {
            items: Array<{ kind: string; metadata: { name: string; namespace?: string } }>
          }
        ).items
      : []
  for (const o of items)
    await kubectl([
      "patch",
      `${o.kind.toLowerCase()}.langop.io/${o.metadata.name}`,
      ...(o.metadata.namespace === undefined ? [] : ["-n", o.metadata.namespace]),
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":null}}',
    ])
}
