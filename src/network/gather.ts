/**
 * The I/O half of egress policy building, shared by every reconciler that owns a NetworkPolicy: the pure
 * builder says which Services and names it needs (`lookups`); this reads the Services (and the
 * EndpointSlices of selector-less ones) live and resolves the names with the grace memory, until the builder
 * needs nothing more.
 *
 * Guarantee: terminates — each round only adds keys and ExternalName chains are at most 3 deep, so 5 rounds
 * always suffice. A Service that does not exist is recorded as "NotFound" (the builder reports it).
 */
import { Duration, Effect } from "effect"
import { orUndefinedOnNotFound } from "../controllers/common/io.ts"
import { KubeClient } from "../kube/client.ts"
import { Builtin } from "../kube/resources.ts"
import { resolveEgressNames } from "./memory.ts"
import { type EgressWorld, emptyWorld } from "./peers.ts"
import { buildEgressPolicy, type EgressPolicyResult, type EgressRequest } from "./policy.ts"
import {
  type EndpointSliceObject,
  type ServiceInfo,
  type ServiceObject,
  serviceInfoFrom,
} from "./services.ts"
import type { EgressSettings } from "./settings.ts"

const MAX_ROUNDS = 5

/** Everything the builder needs for `request`, looked up. */
export const gatherEgressWorld = Effect.fn("network.gatherEgressWorld")(function* (
  request: EgressRequest,
  settings: EgressSettings,
  dnsRefresh: Duration.Input,
) {
  const kube = yield* KubeClient
  let world: EgressWorld = emptyWorld
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { services, names } = buildEgressPolicy(request, world, settings).lookups
    if (services.length === 0 && names.length === 0) break
    const found = yield* Effect.forEach(services, (key) =>
      Effect.gen(function* () {
        const text = `${key.namespace}/${key.name}`
        const svc = yield* orUndefinedOnNotFound(kube.get(Builtin.Service, key))
        if (svc === undefined) return [text, "NotFound"] as const
        const service = svc as unknown as ServiceObject
        const slices =
          Object.keys(service.spec?.selector ?? {}).length > 0
            ? []
            : (yield* kube.list(Builtin.EndpointSlice, {
                namespace: key.namespace,
                labelSelector: `kubernetes.io/service-name=${key.name}`,
              })).items
        return [
          text,
          serviceInfoFrom(service, slices as unknown as ReadonlyArray<EndpointSliceObject>),
        ] as const
      }),
    )
    const dns =
      names.length === 0 ? new Map() : yield* resolveEgressNames(names, Duration.toMillis(dnsRefresh))
    world = {
      dns: new Map([...world.dns, ...dns]),
      services: new Map<string, ServiceInfo | "NotFound">([...world.services, ...found]),
    }
  }
  return world
})

/** The policy for `request` with every lookup it needs done. */
export const gatherEgressPolicy = (
  request: EgressRequest,
  settings: EgressSettings,
  dnsRefresh: Duration.Input,
): Effect.Effect<
  EgressPolicyResult,
  Effect.Error<ReturnType<typeof gatherEgressWorld>>,
  Effect.Services<ReturnType<typeof gatherEgressWorld>>
> =>
  Effect.map(gatherEgressWorld(request, settings, dnsRefresh), (world) =>
    buildEgressPolicy(request, world, settings),
  )
