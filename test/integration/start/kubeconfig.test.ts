// `npm start` with a kubeconfig (the shared test cluster's): the startup failures end with ONE sentence
// and exit 1; `--install` runs the operator out of cluster with its admission webhooks registered, and
// Ctrl-C removes them before the operator stops and exits 0.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { parse, stringify } from "yaml"
import {
  createNamespace,
  deleteNamespace,
  kubeconfigPath,
  kubectl,
  makeKubeConfig,
  uniqueName,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { freePort, portEnv, start } from "./support.ts"

const home = mkdtempSync(join(tmpdir(), "langop-kc-home-"))
const baseEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH,
  HOME: home,
  XDG_CACHE_HOME: join(home, ".cache"),
  KUBECONFIG: kubeconfigPath(),
  ...extra,
})

/** Runs to completion; the one-sentence contract: exit 1, exactly one stderr line `langop: …`. */
const failsWith = async (env: Record<string, string | undefined>, args: ReadonlyArray<string> = []) => {
  const op = start(["node", "src/main.ts", ...args], env)
  const exit = await op.exited
  expect(exit, op.stderr()).toEqual({ code: 1, signal: null })
  const lines = op.stderr().trimEnd().split("\n")
  expect(lines, op.stderr()).toHaveLength(1)
  expect(lines[0]).toMatch(/^langop: /u)
  return lines[0] ?? ""
}

const kubeconfigVariant = (name: string, change: (doc: Record<string, unknown>) => void) => {
  const doc = parse(readFileSync(kubeconfigPath(), "utf8")) as Record<string, unknown>
  change(doc)
  const path = join(home, name)
  writeFileSync(path, stringify(doc))
  return path
}

let operatorNs = ""
let workNs = ""

beforeAll(async () => {
  await installCrds()
  const kc = makeKubeConfig()
  operatorNs = uniqueName("kc-operator")
  workNs = await createNamespace(kc, "kc-work")
})

afterAll(async () => {
  // Safety net only: the test itself checks that the operator removed them.
  await kubectl([
    "delete",
    "mutatingwebhookconfiguration/langop-mutating",
    "validatingwebhookconfiguration/langop-validating",
    "--ignore-not-found",
  ])
  const kc = makeKubeConfig()
  await deleteNamespace(kc, operatorNs)
  await deleteNamespace(kc, workNs)
})

describe("npm start with a kubeconfig: startup failures are one sentence", () => {
  test("without --install, what is missing is named", async () => {
    const { health: _, ...ports } = await portEnv()
    const line = await failsWith(baseEnv({ ...ports, POD_NAMESPACE: operatorNs }))
    expect(line).toBe(
      `langop: the cluster at ${makeKubeConfig().getCurrentCluster()?.server} lacks what the operator needs: namespace ${operatorNs} (for the leader-election Lease); run \`npm start -- --install\` to install them (or \`kubectl apply --server-side -f crds/\`).`,
    )
  })

  test("a port in use", async () => {
    const { health: _, ...ports } = await portEnv()
    const blocker = createServer()
    const port = await freePort()
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve))
    try {
      const line = await failsWith(baseEnv({ ...ports, LANGOP_WEBHOOK_PORT: String(port) }))
      expect(line).toBe(
        `langop: 127.0.0.1:${port} (admission server) is already in use: stop the process listening there or set LANGOP_WEBHOOK_PORT to a free port.`,
      )
    } finally {
      blocker.close()
    }
  })

  test("an unreachable cluster", async () => {
    const { health: _, ...ports } = await portEnv()
    const dead = await freePort()
    const path = kubeconfigVariant("dead.kubeconfig", (doc) => {
      for (const c of doc.clusters as Array<{ cluster: { server: string } }>)
        c.cluster.server = `https://127.0.0.1:${dead}`
    })
    const line = await failsWith(baseEnv({ ...ports, KUBECONFIG: path }))
    expect(line).toMatch(
      new RegExp(
        `^langop: cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${dead} \\(.*ECONNREFUSED.*\\): start the cluster or point KUBECONFIG at a reachable one`,
        "u",
      ),
    )
  })

  test("an identity without the operator's RBAC", async () => {
    const { health: _, ...ports } = await portEnv()
    const path = kubeconfigVariant("nobody.kubeconfig", (doc) => {
      for (const u of doc.users as Array<{ user: Record<string, unknown> }>) u.user.as = "langop-test-nobody"
    })
    const line = await failsWith(baseEnv({ ...ports, KUBECONFIG: path, POD_NAMESPACE: operatorNs }))
    expect(line).toMatch(
      /^langop: the kubeconfig user "\S+" acting as "langop-test-nobody" \(context \S+\) lacks \d+ RBAC permissions the operator needs \(/u,
    )
    expect(line).toContain("get/list/watch/patch languagepersonas.langop.io")
    expect(line).toContain(`get/create/update leases.coordination.k8s.io in ${operatorNs}`)
    expect(line).toMatch(/: apply the operator's RBAC .*\.$/u)
  })
})

describe("npm start -- --install", () => {
  test("installs, admits and reconciles; Ctrl-C removes the webhook configurations and exits 0", async () => {
    const { health, ...ports } = await portEnv()
    const op = start(["node", "src/main.ts", "--install"], baseEnv({ ...ports, POD_NAMESPACE: operatorNs }))
    try {
      await op.waitForStderr(/langop is running against/u, 120_000)
      await vi.waitFor(async () => expect((await fetch(`${health}/readyz`)).status).toBe(200), {
        timeout: 60_000,
        interval: 250,
      })
      // The mutating webhook (registered by --install) defaults tone; the controller renders the persona.
      const applied = await kubectl(["apply", "-f", "-"], {
        input: stringify({
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguagePersona",
          metadata: { name: "p", namespace: workNs },
          spec: { displayName: "p", description: "p", systemPrompt: "p" },
        }),
      })
      expect(applied.exitCode, applied.stderr).toBe(0)
      const tone = await kubectl(["get", "languagepersona", "p", "-n", workNs, "-o", "jsonpath={.spec.tone}"])
      expect(tone.stdout).toBe("professional")
      await vi.waitFor(
        async () =>
          expect(
            (await kubectl(["get", "languagepersona", "p", "-n", workNs, "-o", "jsonpath={.status.phase}"]))
              .stdout,
          ).toBe("Ready"),
        { timeout: 60_000, interval: 500 },
      )
      // Deleted while the operator runs: it removes its finalizer.
      const deleted = await kubectl(["delete", "languagepersona", "p", "-n", workNs, "--timeout=60s"])
      expect(deleted.exitCode, deleted.stderr).toBe(0)
    } finally {
      const exit = await op.stop("SIGINT")
      expect(exit, op.stderr()).toEqual({ code: 0, signal: null })
    }
    expect(op.stderr()).toMatch(/removed the webhook configurations/u)
    const left = await kubectl([
      "get",
      "mutatingwebhookconfiguration/langop-mutating",
      "--ignore-not-found",
      "-o",
      "name",
    ])
    expect(left.stdout.trim()).toBe("")
  })
})
