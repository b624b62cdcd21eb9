// `npm start` on a machine with NO kubeconfig (HOME points at an empty directory, KUBECONFIG unset, not
// in a Pod) but with the control-plane build cache (XDG_CACHE_HOME points at the real one, so no rebuild):
// it starts its own local control plane, runs the operator, applies deploy/examples/ and prints what to
// type next. Following that hint, `kubectl get langop -A` lists every example, Ready for the kinds whose
// controllers exist (two examples cannot be Ready here, for reasons their condition must state); Ctrl-C (SIGINT
// to the whole process group, as a terminal sends it) then stops everything, exit code 0, and nothing is left behind: no
// process of that control plane, no run directory (kubeconfig, etcd data, logs).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { describe, expect, onTestFinished, test, vi } from "vitest"
import { parseAllDocuments } from "yaml"
import { kubectlPromise } from "../../../src/localcluster/kubectl.ts"
import { controllerRegistry } from "../../../src/operator/controllers.ts"
import { startLocalDns } from "../setup/dns.ts"
import { portEnv, processesMentioning, repoRoot, start } from "./support.ts"

const examples = readdirSync(join(repoRoot, "deploy", "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => parseAllDocuments(readFileSync(join(repoRoot, "deploy", "examples", f), "utf8")))
  .map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string } })
  .filter((o) => o.apiVersion.startsWith("langop.io/"))
const reconciled = new Set(controllerRegistry.map((c) => c.kind))
/**
 * Examples that cannot be Ready on this control plane, with the reason their Ready condition must give: the
 * public chat needs Secrets the examples do not contain (its comment says so). (The support agent's
 * workspace binds through the local control plane's default StorageClass and provisioner.)
 */
const notReadyHere: Readonly<Record<string, string>> = {
  "LanguageClient/support-chat-public": "SecretNotFound",
}

interface Listed {
  items: Array<{
    kind: string
    metadata: { name: string; namespace?: string }
    status?: { conditions?: Array<{ type: string; status: string; reason: string }> }
  }>
}

describe("npm start without a kubeconfig", () => {
  test("local control plane + operator + examples; Ctrl-C leaves nothing behind", async () => {
    const { health: _, ...ports } = await portEnv()
    const dns = await startLocalDns()
    onTestFinished(() => dns.close())
    const op = start(
      ["node", "src/main.ts"],
      {
        PATH: process.env.PATH,
        LANGOP_DNS_SERVERS: dns.server,
        HOME: mkdtempSync(join(tmpdir(), "langop-nohome-")),
        XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"),
        ...ports,
      },
      undefined,
      // Ctrl-C in a terminal signals the whole foreground process group, not only the operator.
      { processGroup: true },
    )
    let kubeconfig = ""
    try {
      // A cold cache builds for ~10 minutes (progress on stderr); the test setup has normally built it.
      const hint = await op.waitForStderr(/export KUBECONFIG=(\S+); (\S+) get langop -A/u, 900_000)
      kubeconfig = hint[1] ?? ""
      const kubectl = hint[2] ?? ""
      expect(op.stderr()).toMatch(
        /no cluster configured \(no KUBECONFIG, no .*\.kube\/config, not in a Pod\)/u,
      )
      expect(existsSync(kubeconfig)).toBe(true)

      await vi.waitFor(
        async () => {
          const table = await kubectlPromise(kubectl, kubeconfig, ["get", "langop", "-A"])
          expect(table.exitCode, table.stderr).toBe(0)
          for (const o of examples) expect(table.stdout).toContain(o.metadata.name)
          const json = await kubectlPromise(kubectl, kubeconfig, ["get", "langop", "-A", "-o", "json"])
          const items = (JSON.parse(json.stdout) as Listed).items
          for (const o of examples) {
            const live = items.find((i) => i.kind === o.kind && i.metadata.name === o.metadata.name)
            expect(live, `${o.kind}/${o.metadata.name}`).toBeDefined()
            if (o.kind !== "LanguageCluster") expect(live?.metadata.namespace).toBe("demo")
            if (!reconciled.has(o.kind)) continue
            const ready = live?.status?.conditions?.find((c) => c.type === "Ready")
            const id = `${o.kind}/${o.metadata.name}`
            const blocked = notReadyHere[id]
            if (blocked === undefined) expect(ready?.status, id).toBe("True")
            else expect(ready, id).toMatchObject({ status: "False", reason: blocked })
          }
        },
        { timeout: 120_000, interval: 1000 },
      )
    } finally {
      const exit = await op.stop("SIGINT")
      expect(exit, op.stderr()).toEqual({ code: 0, signal: null })
    }
    expect(op.stderr()).toMatch(/removed the webhook configurations/u)
    // The control plane outlived the operator's clean-up: nothing it did at the end failed.
    expect(op.stderr()).not.toMatch(/could not remove|ECONNREFUSED|langop: /u)
    const runDir = dirname(kubeconfig)
    expect(runDir).toMatch(/run-/u)
    expect(existsSync(runDir)).toBe(false)
    expect(await processesMentioning(runDir)).toEqual([])
    // One sentence per event, no stack trace.
    expect(op.stderr()).not.toMatch(/\n\s+at /u)
  }, 1_200_000)
})
