// Pod security at admission behind the real kube-apiserver: every restricted-forbidden field a user can
// set (test/unit/webhook/pod-security-table.ts) is applied with kubectl in a namespace of each Pod
// Security level — restricted, baseline, privileged, unlabelled — and is denied with the reason where
// that level forbids it, admitted with a warning where it allows it.
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  outcomeAt,
  type PodSecurityLevelName,
  relaxationTable,
} from "../../unit/webhook/pod-security-table.ts"
import { kubectl, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"

const PLURALS = {
  LanguageAgent: "languageagents",
  LanguageTool: "languagetools",
  LanguageClient: "languageclients",
} as const

const BASE = {
  LanguageAgent: { image: "registry.invalid/agent:1", modelRefs: [{ name: "gpt" }] },
  LanguageTool: { image: "registry.invalid/tool:1" },
  LanguageClient: { image: "registry.invalid/client:1", modelRefs: [{ name: "gpt" }] },
} as const

const LEVELS: ReadonlyArray<PodSecurityLevelName> = ["restricted", "baseline", "privileged", "unlabelled"]

describe("pod security: restricted-forbidden fields × the namespace's Pod Security level", () => {
  let webhook: WebhookHandle | undefined

  beforeAll(async () => {
    await installCrds()
    webhook = await startWebhook()
    await webhook.waitUntilServing()
  })
  afterAll(async () => {
    await webhook?.close()
  })

  test.for(LEVELS)("%s namespace", async (level, { namespace }) => {
    if (level !== "unlabelled") {
      const labelled = await kubectl([
        "label",
        "namespace",
        namespace,
        `pod-security.kubernetes.io/enforce=${level}`,
      ])
      expect(labelled.exitCode).toBe(0)
    }
    const phrase =
      level === "unlabelled"
        ? `namespace "${namespace}" has no pod-security.kubernetes.io/enforce label (Kubernetes' default: privileged)`
        : `namespace "${namespace}" enforces "${level}" (pod-security.kubernetes.io/enforce)`
    for (const [i, row] of relaxationTable.entries()) {
      const name = `row-${i}`
      const manifest = JSON.stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: row.kind,
        metadata: { name },
        spec: { ...BASE[row.kind], ...row.spec },
      })
      const result = await kubectl(["apply", "-n", namespace, "-f", "-"], { input: manifest })
      const got = await kubectl(["get", "-n", namespace, PLURALS[row.kind], name, "-o", "name"])
      const where = `${row.kind} ${row.path}`
      if (outcomeAt(level, row.from) === "denied") {
        expect(result.exitCode, where).not.toBe(0)
        expect(result.stderr, where).toContain(
          `admission webhook "validate.${PLURALS[row.kind]}.langop.io" denied the request`,
        )
        expect(result.stderr, where).toMatch(
          new RegExp(
            `${row.path.replace(/[[\].]/gu, "\\$&")}: .* is forbidden by the ${row.from} Pod Security Standard`,
            "u",
          ),
        )
        expect(result.stderr, where).toContain(phrase)
        expect(got.stderr, where).toContain("NotFound")
      } else {
        expect(result.exitCode, `${where}: ${result.stderr}`).toBe(0)
        expect(result.stderr, where).toContain(`Warning: ${row.path}: `)
        expect(result.stderr, where).toContain(`relaxes the restricted Pod Security Standard`)
        expect(result.stderr, where).toContain(`passed to the Pods unchanged because ${phrase}`)
        expect(got.exitCode, where).toBe(0)
      }
    }
  })
})
