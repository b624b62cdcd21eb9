// Shared pieces of the NetworkPolicy integration tests: gathering the world for the pure builder the way a
// reconciler does (names through the real `Dns` layer, Services from the API), and placing workloads that
// carry the common labels on the kwok node.
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1NetworkPolicy,
  type V1Pod,
} from "@kubernetes/client-node"
import { Effect } from "effect"
import { expect, vi } from "vitest"
import type { Dns } from "../../../src/network/dns.ts"
import { type DnsMemory, resolveEgressNames } from "../../../src/network/memory.ts"
import { type EgressWorld, emptyWorld } from "../../../src/network/peers.ts"
import {
  buildEgressPolicy,
  type EgressPolicyResult,
  type EgressRequest,
} from "../../../src/network/policy.ts"
import { type ServiceInfo, serviceInfoFrom } from "../../../src/network/services.ts"
import type { EgressSettings } from "../../../src/network/settings.ts"
import type { NetworkPolicy } from "../../../src/network/types.ts"

export const poll = { timeout: 90_000, interval: 500 } as const

const notFound = (e: unknown): boolean => typeof e === "object" && e !== null && "code" in e && e.code === 404

/** A Service and (selector-less only) its EndpointSlices, digested for the builder. */
const readService = async (
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<ServiceInfo | "NotFound"> => {
  const core = kc.makeApiClient(CoreV1Api)
  const service = await core.readNamespacedService({ name, namespace }).catch((e: unknown) => {
    if (notFound(e)) return undefined
    throw e
  })
  if (service === undefined) return "NotFound"
  const selector = service.spec?.selector ?? {}
  const slices =
    Object.keys(selector).length > 0
      ? []
      : (
          await kc
            .makeApiClient(DiscoveryV1Api)
            .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` })
        ).items
  return serviceInfoFrom(
    {
      metadata: { name, namespace },
      spec: {
        ...(service.spec?.type !== undefined ? { type: service.spec.type } : {}),
        selector,
        ...(service.spec?.externalName !== undefined ? { externalName: service.spec.externalName } : {}),
        ports: (service.spec?.ports ?? []).map((p) => ({
          port: p.port,
          ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
          ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
        })),
      },
    },
    slices.map((s) => ({
      addressType: s.addressType,
      endpoints: (s.endpoints ?? []).map((e) => ({
        addresses: e.addresses,
        ...(e.conditions?.ready !== undefined ? { conditions: { ready: e.conditions.ready } } : {}),
      })),
      ports: (s.ports ?? []).map((p) => ({
        ...(p.port !== undefined ? { port: p.port } : {}),
        ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
      })),
    })),
  )
}

/**
 * Builds, gathers what `lookups` asks for (names through `Dns` + `DnsMemory`, Services from the API) and
 * builds again until nothing is missing — the loop every reconciler runs.
 */
export const buildGathered = (
  kc: KubeConfig,
  request: EgressRequest,
  settings: EgressSettings,
): Effect.Effect<EgressPolicyResult, never, Dns | DnsMemory> =>
  Effect.gen(function* () {
    let world: EgressWorld = emptyWorld
    for (let round = 0; round < 6; round++) {
      const result = buildEgressPolicy(request, world, settings)
      const { names, services } = result.lookups
      if (names.length === 0 && services.length === 0) return result
      const answers = yield* resolveEgressNames(names, 60_000)
      const read = yield* Effect.promise(() =>
        Promise.all(
          services.map(
            async (key) =>
              [`${key.namespace}/${key.name}`, await readService(kc, key.namespace, key.name)] as const,
          ),
        ),
      )
      world = {
        dns: new Map([...world.dns, ...answers]),
        services: new Map([...world.services, ...read]),
      }
    }
    return yield* Effect.die(new Error(`egress lookups for ${request.name} did not converge`))
  })

/** The builder's object as a client-node body. */
export const toV1 = (policy: NetworkPolicy): V1NetworkPolicy => JSON.parse(JSON.stringify(policy))

export const applyPolicy = async (kc: KubeConfig, policy: NetworkPolicy): Promise<void> => {
  await kc
    .makeApiClient(NetworkingV1Api)
    .createNamespacedNetworkPolicy({ namespace: policy.metadata.namespace, body: toV1(policy) })
}

/** A one-replica Deployment whose pods carry `labels` (also its selector); the image is never pulled (kwok). */
export const createWorkload = async (
  kc: KubeConfig,
  namespace: string,
  name: string,
  labels: Readonly<Record<string, string>>,
  ports: ReadonlyArray<number> = [],
): Promise<void> => {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels: { ...labels } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            containers: [
              {
                name: "main",
                image: "registry.invalid/never-pulled:1",
                ports: ports.map((containerPort) => ({ containerPort })),
              },
            ],
          },
        },
      },
    },
  })
}

const selectorText = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",")

/** Waits for the single Running, not terminating pod with an IP that matches `labels` in `namespace`. */
export const runningPod = (
  kc: KubeConfig,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): Promise<V1Pod> =>
  vi.waitFor(async () => {
    const list = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector: selectorText(labels) })
    const running = list.items.filter(
      (p) =>
        p.status?.phase === "Running" &&
        p.status.podIP !== undefined &&
        p.metadata?.deletionTimestamp === undefined,
    )
    expect(running).toHaveLength(1)
    const pod = running[0]
    if (pod === undefined) throw new Error("unreachable")
    return pod
  }, poll)

export const podRef = (pod: V1Pod): { readonly namespace: string; readonly name: string } => ({
  namespace: pod.metadata?.namespace ?? "",
  name: pod.metadata?.name ?? "",
})
