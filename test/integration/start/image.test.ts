// The container image's CMD works from a clean checkout (no Docker daemon here, so the image is not built):
// the files deploy/Dockerfile COPYs, filtered by its .dockerignore as a build would, are taken from the
// committed tree (`git archive HEAD`), production
// dependencies only are installed the way its RUN line does, and EXACTLY its CMD is run in that directory
// against the local control plane, with the Deployment's settings (listeners moved to loopback, as
// everything on this machine; the certificate directory to a temp dir, since out of cluster the
// development CA is used). It must become ready, and stop with exit 0 on SIGTERM (what kubelet sends).
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { parse } from "yaml"
import { copies, imageFiles, instruction } from "../../unit/deploy/image-files.ts"
import { createNamespace, deleteNamespace, kubeconfigPath, makeKubeConfig } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { portEnv, repoRoot, start } from "./support.ts"

const cmd = JSON.parse(instruction("CMD")[0] ?? "[]") as Array<string>

interface EnvVar {
  name: string
  value?: string
}
const deploymentEnv = (): Record<string, string> => {
  const d = parse(
    readFileSync(join(repoRoot, "deploy", "base", "deployment.yaml"), "utf8").split("\n---\n")[0] ?? "",
  ) as {
    spec: { template: { spec: { containers: Array<{ env: Array<EnvVar> }> } } }
  }
  const env = d.spec.template.spec.containers[0]?.env ?? []
  return Object.fromEntries(env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])))
}

let stage = ""
let operatorNs = ""

beforeAll(async () => {
  await installCrds()
  operatorNs = await createNamespace(makeKubeConfig(), "image-operator")
  // The COPY'd paths keep their place relative to WORKDIR, so staging them at the same paths is the image.
  for (const c of copies())
    for (const s of c.sources)
      expect(c.dest === "./" || c.dest === `./${s}`, `COPY ${s} ${c.dest}`).toBe(true)
  stage = mkdtempSync(join(tmpdir(), "langop-image-"))
  const archive = execFileSync("git", ["archive", "HEAD", ...imageFiles()], {
    cwd: repoRoot,
    maxBuffer: 256 * 1024 * 1024,
  })
  execFileSync("tar", ["-x", "-C", stage], { input: archive })
  const run = instruction("RUN").find((l) => l.includes("npm ci")) ?? ""
  expect(run).toMatch(/npm ci --omit=dev/u)
  // The RUN line's install (its cache cleanup is the image's business, not this machine's).
  const args = (run.split("&&")[0] ?? "").trim().split(/\s+/u).slice(1)
  execFileSync("npm", [...args, "--prefer-offline"], { cwd: stage, stdio: "ignore", timeout: 300_000 })
}, 600_000)

afterAll(async () => {
  await deleteNamespace(makeKubeConfig(), operatorNs)
})

describe("deploy/Dockerfile", () => {
  test("its CMD runs the operator from a clean checkout with production dependencies only", async () => {
    expect(cmd).toEqual(["node", "src/main.ts"])
    const { health, ...ports } = await portEnv()
    const op = start(
      cmd,
      {
        PATH: process.env.PATH,
        HOME: stage,
        XDG_CACHE_HOME: join(stage, ".cache"),
        KUBECONFIG: kubeconfigPath(),
        NODE_ENV: "production",
        ...deploymentEnv(),
        POD_NAMESPACE: operatorNs,
        POD_NAME: "image-test",
        LANGOP_WEBHOOK_HOST: "127.0.0.1",
        LANGOP_CERT_DIR: join(stage, "serving-certs"),
        ...ports,
      },
      stage,
    )
    try {
      await vi.waitFor(
        async () =>
          expect((await fetch(`${health}/readyz`).catch(() => undefined))?.status, op.stderr()).toBe(200),
        { timeout: 90_000, interval: 500 },
      )
      expect(op.stdout()).toMatch(/"msg":"controller started"/u)
    } finally {
      const exit = await op.stop("SIGTERM")
      expect(exit, op.stderr()).toEqual({ code: 0, signal: null })
    }
  })
  test("without a cluster, its CMD says so in one sentence (the image has no local control plane)", async () => {
    const { health: _health, ...ports } = await portEnv()
    const op = start(
      cmd,
      {
        PATH: process.env.PATH,
        HOME: stage,
        XDG_CACHE_HOME: join(stage, ".cache"),
        NODE_ENV: "production",
        ...deploymentEnv(),
        LANGOP_WEBHOOK_HOST: "127.0.0.1",
        ...ports,
      },
      stage,
    )
    const exit = await op.exited
    expect(exit, op.stderr()).toEqual({ code: 1, signal: null })
    expect(op.stderr()).toMatch(/^langop: no cluster found .*this installation has no local control plane/mu)
    expect(op.stderr()).not.toMatch(/ERR_MODULE_NOT_FOUND|\n\s+at /u)
  })
})
