// The write floor: the children the operator produced, written by a bare server-side-apply loop at the
// operator's concurrency on a fresh control plane. What no operator can beat on this machine.
import { Effect } from "effect"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { apiVersionOf, Builtin, type ResourceDescriptor } from "../../../src/kube/resources.ts"
import { type BenchCluster, sleep } from "./cluster.ts"

export const childKinds: ReadonlyArray<ResourceDescriptor> = [
  Builtin.Deployment,
  Builtin.Service,
  Builtin.ConfigMap,
  Builtin.NetworkPolicy,
]

type Meta = {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: ReadonlyArray<{ kind: string; controller?: boolean }>
}

const ownedBy = (o: KubeObject, ownerKind: string) =>
  ((o.metadata as Meta).ownerReferences ?? []).some((r) => r.controller === true && r.kind === ownerKind)

/** What a client would send: identity, labels, annotations, spec/data; nothing the server fills in. */
const desired = (r: ResourceDescriptor, o: KubeObject): KubeObject => {
  const m = o.metadata as Meta
  const spec = o.spec as Record<string, unknown> | undefined
  const cleanSpec =
    spec !== undefined && r.kind === "Service"
      ? Object.fromEntries(
          Object.entries(spec).filter(
            ([k]) =>
              !["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"].includes(
                k,
              ),
          ),
        )
      : spec
  return {
    // List items carry neither; the descriptor says what they are.
    apiVersion: apiVersionOf(r),
    kind: r.kind,
    metadata: {
      name: m.name,
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    },
    ...(cleanSpec !== undefined ? { spec: cleanSpec } : {}),
    ...(o.data !== undefined ? { data: o.data } : {}),
  } as KubeObject
}

export interface Child {
  readonly r: ResourceDescriptor
  readonly o: KubeObject
}

/** The children of `ownerKind` objects in `namespace`, as desired objects (kind descriptor with each). */
export const captureChildren = (namespace: string, ownerKind: string) =>
  Effect.gen(function* () {
    const k = yield* KubeClient
    const out: Array<Child> = []
    for (const r of childKinds)
      for (const o of (yield* k.listAll(r, { namespace })).items)
        if (ownedBy(o, ownerKind)) out.push({ r, o: desired(r, o) })
    return out
  })

/** Owned children (any langop owner kind) of `kinds` in a namespace. */
export const countChildren = (namespace: string, ownerKind: string) =>
  Effect.gen(function* () {
    const k = yield* KubeClient
    let n = 0
    for (const r of childKinds)
      n += (yield* k.listAll(r, { namespace })).items.filter((o) => ownedBy(o, ownerKind)).length
    return n
  })

export interface FloorResult {
  readonly objects: number
  readonly writes: number
  /** First write → last child written (ms). */
  readonly childrenExistMs: number
  /** First write → every Deployment Available (ms): what the cluster itself takes. */
  readonly deploymentsAvailableMs: number
}

const available = (o: KubeObject) =>
  (
    (o.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ??
    []
  ).some((c) => c.type === "Available" && c.status === "True")

export const runFloor = async (
  cluster: BenchCluster,
  namespace: string,
  children: ReadonlyArray<Child>,
  concurrency: number,
): Promise<FloorResult> => {
  await cluster.kubectl(["create", "namespace", namespace])
  const t0 = Date.now()
  await cluster.run(
    Effect.gen(function* () {
      const k = yield* KubeClient
      yield* Effect.forEach(
        children,
        ({ r, o }) =>
          k.apply(
            r,
            { ...o, metadata: { ...o.metadata, namespace } },
            { fieldManager: "write-floor", force: true },
          ),
        { concurrency, discard: true },
      )
    }),
  )
  const childrenExistMs = Date.now() - t0
  const deployments = children.filter((c) => c.r.kind === "Deployment").length
  for (;;) {
    const items = await cluster.run(
      Effect.flatMap(Effect.service(KubeClient), (k) => k.listAll(Builtin.Deployment, { namespace })),
    )
    if (items.items.filter(available).length >= deployments) break
    if (Date.now() - t0 > 1_800_000) throw new Error("floor: Deployments not Available within 30 min")
    await sleep(500)
  }
  return {
    objects: children.length,
    writes: children.length,
    childrenExistMs,
    deploymentsAvailableMs: Date.now() - t0,
  }
}
