// An informer survives an apiserver restart and misses no change made while it was disconnected.
//
// The test starts its own control plane (so restarting its apiserver disturbs no other test) and a
// second apiserver process on the same etcd. The manager talks only to apiserver A; A is stopped
// (SIGTERM by PID), the changes are made through apiserver B, then A is started again with its
// original command line. Every change must be reconciled afterwards.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit, Scope } from "effect"
import { expect, test } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { startLocalCluster } from "../../../src/localcluster/cluster.ts"
import { freePorts, probe } from "../../../src/localcluster/net.ts"
import { awaitReady, signalPid, spawnManaged } from "../../../src/localcluster/process.ts"
import { defineController } from "../../../src/runtime/controller.ts"
import type { InformerSource } from "../../../src/runtime/informer.ts"
import { Informers } from "../../../src/runtime/informers.ts"
import { eventually, sample, startManager, withClient } from "./support.ts"

const CM = Builtin.ConfigMap

/** Running (a zombie, exited but not yet reaped, counts as gone). */
const isAlive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/mu.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

test("a watch survives an apiserver restart and misses no create, update or delete", async () => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>) =>
    Effect.runPromise(Scope.provide(eff, scope))
  let mgr: ReturnType<typeof startManager> | undefined
  try {
    const info = await inScope(startLocalCluster({ onProgress: () => {} }))
    const apiA = info.processes.find((p) => p.name === "kube-apiserver")
    if (apiA === undefined) throw new Error("no apiserver process")
    const [binary = "", ...argsA] = readFileSync(`/proc/${apiA.pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "")
    const logDir = join(info.runDir, "logs")
    const ready = (port: number, name: string) =>
      awaitReady(name, probe(`https://127.0.0.1:${port}/readyz`, { ca: info.caPem }), [], 60_000)

    // Apiserver B: same etcd and certificates, another port; its own kubeconfig.
    const [portB = 0] = await Effect.runPromise(freePorts(1))
    const argsB = argsA.map((a) => (a.startsWith("--secure-port=") ? `--secure-port=${portB}` : a))
    await inScope(spawnManaged({ name: "kube-apiserver-b", command: binary, args: argsB, logDir }))
    await Effect.runPromise(ready(portB, "kube-apiserver-b"))
    const kubeconfigB = join(info.runDir, "b.kubeconfig")
    writeFileSync(
      kubeconfigB,
      readFileSync(info.kubeconfigPath, "utf8").replace(info.server, `https://127.0.0.1:${portB}`),
    )

    const namespace = "restart"
    const viaA = withClient(info.kubeconfigPath)
    const viaB = withClient(kubeconfigB)
    await viaA(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* k.create(Builtin.Namespace, { metadata: { name: namespace } })
        for (const name of ["keep", "change", "gone"])
          yield* k.create(CM, { metadata: { name, namespace }, data: { v: "1" } })
      }),
    )

    // The controller records what it saw in its cache for each key it reconciled.
    const source: InformerSource<KubeObject> = { resource: CM, namespace }
    const seen = new Map<string, string>()
    const ctrl = defineController({
      name: "restart",
      for: source,
      reconcile: (req) =>
        Effect.gen(function* () {
          const obj = (yield* Informers).cache(source).get(req.key)
          seen.set(
            req.name,
            obj === undefined ? "deleted" : String((obj.data as { v?: string } | undefined)?.v),
          )
        }),
    })
    mgr = startManager(info.kubeconfigPath, [ctrl], {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 2000,
      concurrency: () => 2,
    })
    await eventually("the initial objects to be reconciled", () =>
      ["keep", "change", "gone"].every((n) => seen.get(n) === "1"),
    )

    // Outage of apiserver A; the changes go through B meanwhile.
    // Graceful stop as kubelet would do it (SIGTERM, 10 s grace, then SIGKILL): the apiserver stops
    // listening at once but its shutdown can hang on open connections.
    signalPid(apiA.pid, "SIGTERM")
    await eventually("apiserver A to exit", () => !isAlive(apiA.pid), 10_000).catch(() => {
      signalPid(apiA.pid, "SIGKILL")
      return eventually("apiserver A to exit after SIGKILL", () => !isAlive(apiA.pid), 10_000)
    })
    await viaB(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* k.create(CM, { metadata: { name: "new", namespace }, data: { v: "1" } })
        yield* k.patch(CM, { namespace, name: "change" }, { type: "merge", body: { data: { v: "2" } } })
        yield* k.delete(CM, { namespace, name: "gone" })
      }),
    )
    await new Promise((r) => setTimeout(r, 3000)) // let the informer fail a few reconnects
    expect(seen.get("new")).toBeUndefined()

    await inScope(spawnManaged({ name: "kube-apiserver-a2", command: binary, args: argsA, logDir }))
    await Effect.runPromise(ready(Number(new URL(info.server).port), "kube-apiserver (restarted)"))
    const restartedAt = Date.now()
    await eventually(
      "every change made during the outage to be reconciled",
      () => seen.get("new") === "1" && seen.get("change") === "2" && seen.get("gone") === "deleted",
      60_000,
    )
    console.log(`caught up ${Date.now() - restartedAt} ms after the apiserver was ready again`)
    expect(seen.get("keep")).toBe("1")
    const text = await mgr.metrics()
    expect(
      sample(
        text,
        'langop_informer_watch_restarts_total{resource="configmaps.v1.|restart||",reason="error"}',
      ),
    ).toBeGreaterThan(0)
  } finally {
    await mgr?.stop()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
})
