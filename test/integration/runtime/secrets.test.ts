// The operator's Secret cache against a real API server: a Secret applied with kubectl (which also stores
// the whole Secret, values included, in its last-applied annotation) enters the cache with its key names
// and resourceVersion, and none of its values.
import { Effect, Fiber } from "effect"
import { expect } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import { makeInformer } from "../../../src/runtime/informer.ts"
import { secretSource } from "../../../src/runtime/sources.ts"
import { kubeconfigPath, kubectl, clusterTest as test } from "../setup/context.ts"
import { eventually, withClient } from "./support.ts"

const VALUE = "sk-never-in-memory-4f1c2a"

test("Secrets enter the cache without their values; key names and resourceVersion stay", async ({
  namespace,
}) => {
  const apply = (version: string) =>
    kubectl(["apply", "-n", namespace, "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "credentials" },
        data: { "api-key": Buffer.from(`${VALUE}-${version}`).toString("base64") },
        stringData: { "plain-key": `${VALUE}-plain-${version}` },
      }),
    })
  expect((await apply("1")).exitCode).toBe(0)
  await withClient(kubeconfigPath())(
    Effect.gen(function* () {
      const client = yield* KubeClient
      const informer = yield* makeInformer(client, { ...secretSource, namespace })
      const fiber = yield* Effect.forkChild(informer.run)
      yield* informer.waitForSync
      const live = yield* client.get(secretSource.resource, { namespace, name: "credentials" })
      // The live object really carries the values (in data and in kubectl's annotation).
      expect(JSON.stringify(live)).toContain(Buffer.from(`${VALUE}-1`).toString("base64"))
      expect(JSON.stringify(live.metadata.annotations)).toContain(
        Buffer.from(`${VALUE}-1`).toString("base64"),
      )

      const listed = informer.cache.getByName(namespace, "credentials")
      expect(listed).toMatchObject({
        metadata: { name: "credentials", namespace, resourceVersion: live.metadata.resourceVersion },
        type: "Opaque",
        data: { "api-key": "", "plain-key": "" },
      })
      yield* Effect.promise(() => apply("2"))
      const watched = yield* Effect.promise(() =>
        eventually("the update through the watch", () => {
          const o = informer.cache.getByName(namespace, "credentials")
          return o?.metadata.resourceVersion !== live.metadata.resourceVersion ? o : undefined
        }),
      )
      for (const o of [listed, watched]) {
        const text = JSON.stringify(o)
        expect(text).not.toContain(VALUE)
        expect(text).not.toContain(Buffer.from(VALUE).toString("base64").slice(0, 16))
        expect(text).not.toContain("last-applied-configuration")
      }
      expect(Object.keys((watched as { data?: object }).data ?? {}).sort()).toEqual(["api-key", "plain-key"])
      yield* Fiber.interrupt(fiber)
    }),
  )
})
