// The client against a local HTTP server: request shapes (SSA content type and query), Retry-After,
// error classification from real responses, and watch line framing.
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { KubeClient, layerFromKubeConfig } from "../../../src/kube/client.ts"
import { Builtin, Langop } from "../../../src/kube/resources.ts"

interface Seen {
  readonly method: string
  readonly url: string
  readonly contentType: string | undefined
  readonly body: string
}

const seen: Array<Seen> = []
let respond: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = (_q, res) =>
  res.writeHead(200, { "content-type": "application/json" }).end("{}")
let server: http.Server
let kc: KubeConfig

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => {
      body += c.toString()
    })
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        contentType: req.headers["content-type"],
        body,
      })
      respond(req, res, body)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as AddressInfo).port
  kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "secret-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  })
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

const run = <A, E>(eff: Effect.Effect<A, E, KubeClient>) =>
  Effect.runPromise(Effect.scoped(Effect.provide(eff, layerFromKubeConfig(kc))))

describe("KubeClient over HTTP", () => {
  it("sends server-side apply as apply-patch+yaml with fieldManager and force", async () => {
    seen.length = 0
    respond = (_q, res, body) => res.writeHead(200).end(body)
    const obj = {
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      metadata: { name: "bot", namespace: "team" },
      status: { phase: "Ready" },
    }
    await run(
      Effect.flatMap(KubeClient, (k) =>
        k.apply(Langop.LanguageAgent, obj, {
          fieldManager: "langop-operator",
          force: true,
          subresource: "status",
        }),
      ),
    )
    expect(seen[0]).toEqual({
      method: "PATCH",
      url: "/apis/langop.io/v1alpha1/namespaces/team/languageagents/bot/status?fieldManager=langop-operator&force=true",
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(obj),
    })
  })

  it("sends merge and JSON patches with their content types, deletes with propagation and preconditions", async () => {
    seen.length = 0
    respond = (_q, res) => res.writeHead(200).end('{"metadata":{}}')
    await run(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* k.patch(
          Langop.LanguageCluster,
          { name: "c" },
          { type: "merge", body: { metadata: { labels: { a: "b" } } } },
        )
        yield* k.patch(
          Builtin.ConfigMap,
          { namespace: "n", name: "x" },
          { type: "json", ops: [{ op: "remove", path: "/data/a" }] },
        )
        yield* k.delete(
          Builtin.Deployment,
          { namespace: "n", name: "d" },
          { propagationPolicy: "Foreground", preconditions: { uid: "u1" } },
        )
      }),
    )
    expect(seen.map((s) => [s.method, s.url, s.contentType])).toEqual([
      ["PATCH", "/apis/langop.io/v1alpha1/languageclusters/c", "application/merge-patch+json"],
      ["PATCH", "/api/v1/namespaces/n/configmaps/x", "application/json-patch+json"],
      ["DELETE", "/apis/apps/v1/namespaces/n/deployments/d", "application/json"],
    ])
    expect(JSON.parse(seen[2]?.body ?? "")).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: "Foreground",
      preconditions: { uid: "u1" },
    })
  })

  it("waits for Retry-After on 429 and then succeeds", async () => {
    seen.length = 0
    let calls = 0
    respond = (_q, res) => {
      calls++
      if (calls === 1) {
        res
          .writeHead(429, { "retry-after": "1", "content-type": "application/json" })
          .end(JSON.stringify({ kind: "Status", code: 429, reason: "TooManyRequests", message: "slow down" }))
      } else res.writeHead(200).end('{"metadata":{"name":"x"}}')
    }
    const started = Date.now()
    const got = await run(
      Effect.flatMap(KubeClient, (k) => k.get(Builtin.ConfigMap, { namespace: "n", name: "x" })),
    )
    expect(got.metadata.name).toBe("x")
    expect(calls).toBe(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it("fails a 404 at once with a typed error", async () => {
    seen.length = 0
    respond = (_q, res) =>
      res.writeHead(404).end(
        JSON.stringify({
          kind: "Status",
          code: 404,
          reason: "NotFound",
          message: 'configmaps "x" not found',
        }),
      )
    const e = await run(
      Effect.flip(Effect.flatMap(KubeClient, (k) => k.get(Builtin.ConfigMap, { namespace: "n", name: "x" }))),
    )
    expect(e._tag).toBe("NotFound")
    expect(e.message).toBe('configmaps "x" not found')
    expect(seen.length).toBe(1)
  })

  it("follows continue tokens in listAll and never resends resourceVersion on later pages", async () => {
    seen.length = 0
    respond = (req, res) => {
      const url = new URL(req.url ?? "", "http://x")
      const page = url.searchParams.get("continue")
      res.writeHead(200).end(
        JSON.stringify({
          metadata: { resourceVersion: "42", ...(page === null ? { continue: "p2" } : {}) },
          items: [{ metadata: { name: page === null ? "a" : "b" } }],
        }),
      )
    }
    const list = await run(
      Effect.flatMap(KubeClient, (k) =>
        k.listAll(Builtin.Pod, { labelSelector: "app=x", resourceVersion: "0" }),
      ),
    )
    expect(list.items.map((i) => i.metadata.name)).toEqual(["a", "b"])
    expect(list.resourceVersion).toBe("42")
    expect(seen.map((s) => s.url)).toEqual([
      "/api/v1/pods?labelSelector=app%3Dx&limit=500&resourceVersion=0",
      "/api/v1/pods?labelSelector=app%3Dx&limit=500&continue=p2",
    ])
  })

  it("applies a list's transform to every item of every page", async () => {
    respond = (req, res) => {
      const url = new URL(req.url ?? "", "http://x")
      const page = url.searchParams.get("continue")
      res.writeHead(200).end(
        JSON.stringify({
          metadata: { resourceVersion: "7", ...(page === null ? { continue: "p2" } : {}) },
          items: [{ metadata: { name: page === null ? "a" : "b" }, data: { k: "dmFsdWU=" } }],
        }),
      )
    }
    const list = await run(
      Effect.flatMap(KubeClient, (k) =>
        k.listAll(Builtin.Secret, { transform: (o) => ({ metadata: o.metadata, data: { seen: "" } }) }),
      ),
    )
    expect(list.items).toEqual([
      { metadata: { name: "a" }, data: { seen: "" } },
      { metadata: { name: "b" }, data: { seen: "" } },
    ])
  })

  it("frames watch events split across chunks, sends the token, and closes the connection when done", async () => {
    seen.length = 0
    let closed = false
    let auth: string | undefined
    respond = (req, res) => {
      auth = req.headers.authorization
      res.writeHead(200, { "content-type": "application/json" })
      const ev1 = JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "1" } } })
      const ev2 = JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "2" } } })
      res.write(ev1.slice(0, 10))
      setTimeout(() => res.write(`${ev1.slice(10)}\n${ev2}\n`), 20)
      res.on("close", () => {
        closed = true
      })
    }
    const events = await run(
      Effect.flatMap(KubeClient, (k) =>
        k
          .watch(Builtin.ConfigMap, {
            namespace: "n",
            resourceVersion: "0",
            allowWatchBookmarks: true,
            timeoutSeconds: 300,
          })
          .pipe(Stream.take(2), Stream.runCollect),
      ),
    )
    expect(events.map((e) => e.type)).toEqual(["ADDED", "BOOKMARK"])
    expect(seen[0]?.url).toBe(
      "/api/v1/namespaces/n/configmaps?watch=true&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=300",
    )
    expect(auth).toBe("Bearer secret-token")
    await new Promise((r) => setTimeout(r, 100))
    expect(closed).toBe(true)
  })

  it("fails a watch that the server refuses with the classified error", async () => {
    respond = (_q, res) =>
      res.writeHead(410).end(
        JSON.stringify({
          kind: "Status",
          code: 410,
          reason: "Expired",
          message: "too old resource version",
        }),
      )
    const e = await run(
      Effect.flip(
        Effect.flatMap(KubeClient, (k) =>
          k.watch(Builtin.ConfigMap, { resourceVersion: "1" }).pipe(Stream.runDrain),
        ),
      ),
    )
    expect(e._tag).toBe("Gone")
  })
})
