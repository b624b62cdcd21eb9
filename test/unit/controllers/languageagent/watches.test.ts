// The controller's triggers (docs/concepts.md §10): which agents an event of a watched kind enqueues, through the
// cache indexes, evaluated against real Store caches.
import { describe, expect, it } from "vitest"
import { agents, CHILD_SOURCES } from "../../../../src/controllers/languageagent/gather.ts"
import { languageAgentController } from "../../../../src/controllers/languageagent/index.ts"
import { personas } from "../../../../src/controllers/languagepersona/gather.ts"
import { objectKey } from "../../../../src/kube/objects.ts"
import { Langop } from "../../../../src/kube/resources.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../../src/network/settings.ts"
import { type Indexers, Store } from "../../../../src/runtime/cache.ts"
import type { InformerEvent, InformerSource } from "../../../../src/runtime/informer.ts"
import { sourceId } from "../../../../src/runtime/informer.ts"
import type { InformersShape } from "../../../../src/runtime/informers.ts"
import { agent, model, NS, persona, tool } from "./fixtures.ts"

const ctrl = languageAgentController({
  fieldManager: "m",
  dependencyWait: "1 second",
  dnsRefresh: "5 minutes",
  usageAttribution: false,
  ciliumFqdn: false,
  settings: {
    clusterDomain: "cluster.local",
    egress: DEFAULT_EGRESS_SETTINGS,
    otlpEndpoint: undefined,
    defaultFsGroup: undefined,
  },
})

const stores = new Map<string, Store<unknown>>()
const storeOf = <T>(source: InformerSource<T>): Store<T> => {
  const id = sourceId(source)
  let s = stores.get(id)
  if (s === undefined) {
    s = new Store<unknown>()
    stores.set(id, s)
  }
  if (source.indexers !== undefined) s.addIndexers(source.indexers as Indexers<unknown>)
  return s as Store<T>
}
const informers = { cache: storeOf } as unknown as InformersShape

const put = <T extends { metadata: { name?: string | undefined; namespace?: string | undefined } }>(
  source: InformerSource<T>,
  obj: T,
) => storeOf(source).upsert(objectKey(obj as never), obj)

// Agents: one referencing everything, one referencing only the model in another namespace.
put(
  agents,
  agent(
    {
      clusterRef: "demo",
      modelRefs: [{ name: "m1" }],
      toolRefs: [{ name: "t" }],
      personaRef: { name: "child" },
      memoryStore: { type: "redis", connectionSecretRef: { name: "redis" } },
      env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "k" } } }],
    },
    { name: "a1" },
  ),
)
put(agents, agent({ modelRefs: [{ name: "m1", namespace: NS }] }, { name: "a2", namespace: "other" }))
put(personas, persona("root"))
put(personas, persona("child", { parentPersona: { name: "root" } }))

const keysFor = (kind: string, obj: unknown, type: "add" | "update" = "add") => {
  const matching = ctrl.sources.filter((s) => s.source.resource.kind === kind)
  const ev: InformerEvent<unknown> = { type, key: "k", obj, initial: false, resync: false }
  return [...new Set(matching.flatMap((s) => s.toKeys(ev, informers, Langop.LanguageAgent)))].sort()
}

describe("LanguageAgent watches", () => {
  it("a LanguageModel maps to every agent referencing it, across namespaces", () => {
    expect(keysFor("LanguageModel", model("m1"))).toEqual([`${NS}/a1`, "other/a2"])
    expect(keysFor("LanguageModel", model("m2"))).toEqual([])
  })
  it("a LanguageTool maps to the agents referencing it", () => {
    expect(keysFor("LanguageTool", tool("t"))).toEqual([`${NS}/a1`])
  })
  it("a persona maps to agents using it or any descendant of it", () => {
    expect(keysFor("LanguagePersona", persona("child"))).toEqual([`${NS}/a1`])
    expect(keysFor("LanguagePersona", persona("root"))).toEqual([`${NS}/a1`])
    expect(keysFor("LanguagePersona", persona("unrelated"))).toEqual([])
  })
  it("a LanguageCluster maps to its member agents", () => {
    expect(keysFor("LanguageCluster", { metadata: { name: "demo" }, spec: {} })).toEqual([`${NS}/a1`])
  })
  it("a Secret the agent reads through env maps to it", () => {
    expect(keysFor("Secret", { metadata: { name: "redis", namespace: NS } })).toEqual([`${NS}/a1`])
    expect(keysFor("Secret", { metadata: { name: "creds", namespace: NS } })).toEqual([`${NS}/a1`])
    expect(keysFor("Secret", { metadata: { name: "redis", namespace: "other" } })).toEqual([])
  })
  it("Jobs and Pods map to the agent named by their labels; owned children to their owner", () => {
    const labelled = {
      metadata: {
        name: "j",
        namespace: NS,
        labels: { "app.kubernetes.io/name": "a1", "langop.io/kind": "LanguageAgent" },
      },
    }
    expect(keysFor("Job", labelled)).toEqual([`${NS}/a1`])
    expect(keysFor("Pod", labelled)).toEqual([`${NS}/a1`])
    expect(
      keysFor("Pod", {
        metadata: {
          name: "p",
          namespace: NS,
          labels: { "app.kubernetes.io/name": "a1", "langop.io/kind": "LanguageTool" },
        },
      }),
    ).toEqual([])
    const child = {
      metadata: {
        name: "a1",
        namespace: NS,
        ownerReferences: [
          { apiVersion: "langop.io/v1alpha1", kind: "LanguageAgent", name: "a1", uid: "u", controller: true },
        ],
      },
    }
    for (const kind of [
      "ConfigMap",
      "PersistentVolumeClaim",
      "Deployment",
      "CronJob",
      "Service",
      "ServiceAccount",
      "Role",
      "RoleBinding",
      "NetworkPolicy",
    ])
      expect(keysFor(kind, child), kind).toEqual([`${NS}/a1`])
    expect(Object.keys(CHILD_SOURCES)).toHaveLength(9)
  })
})
