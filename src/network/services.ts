/**
 * What the egress builder needs to know about one Service: a digest of the Service and its
 * EndpointSlices, so the pure builder never handles raw API objects and gatherers map them in one place.
 *
 * Guarantees (pure): endpoints that report `ready: false` are left out (a terminating backend is not a
 * destination to keep open); addresses are returned as given (the builder validates and normalises them).
 */
import type { ServiceKey } from "./names.ts"

export interface ServicePortInfo {
  readonly port: number
  readonly protocol?: string
  /** Number or named container port; absent means the same as `port`. */
  readonly targetPort?: number | string
}

export interface ServiceInfo extends ServiceKey {
  /** `ClusterIP` (default), `NodePort`, `LoadBalancer`, `ExternalName`. */
  readonly type?: string
  /** Non-empty → its pods are the destination (namespace + pod selector peer). */
  readonly selector?: Readonly<Record<string, string>>
  readonly externalName?: string
  readonly ports?: ReadonlyArray<ServicePortInfo>
  /** From the Service's EndpointSlices; used only for selector-less Services. */
  readonly endpoints?: {
    readonly addresses: ReadonlyArray<string>
    readonly ports: ReadonlyArray<{ readonly port: number; readonly protocol?: string }>
  }
}

/** Loose shapes of the two API objects (only the fields read here). */
export interface ServiceObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string }
  readonly spec?: {
    readonly type?: string
    readonly selector?: Readonly<Record<string, string>>
    readonly externalName?: string
    readonly ports?: ReadonlyArray<{
      readonly port: number
      readonly protocol?: string
      readonly targetPort?: number | string
    }>
  }
}

export interface EndpointSliceObject {
  readonly addressType?: string
  readonly endpoints?: ReadonlyArray<{
    readonly addresses?: ReadonlyArray<string>
    readonly conditions?: { readonly ready?: boolean }
  }>
  readonly ports?: ReadonlyArray<{ readonly port?: number; readonly protocol?: string }>
}

/**
 * Digest of a Service and the EndpointSlices labelled `kubernetes.io/service-name=<name>` in its
 * namespace (pass `[]` for Services with a selector; they are not read).
 */
export const serviceInfoFrom = (
  service: ServiceObject,
  slices: ReadonlyArray<EndpointSliceObject>,
): ServiceInfo => {
  const spec = service.spec ?? {}
  const addresses = slices
    .filter((s) => s.addressType === undefined || s.addressType === "IPv4" || s.addressType === "IPv6")
    .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false))
    .flatMap((e) => e.addresses ?? [])
  const ports = slices.flatMap((s) =>
    (s.ports ?? []).flatMap((p) =>
      p.port === undefined
        ? []
        : [{ port: p.port, ...(p.protocol !== undefined ? { protocol: p.protocol } : {}) }],
    ),
  )
  return {
    namespace: service.metadata.namespace ?? "",
    name: service.metadata.name ?? "",
    ...(spec.type !== undefined ? { type: spec.type } : {}),
    ...(spec.selector !== undefined && Object.keys(spec.selector).length > 0
      ? { selector: spec.selector }
      : {}),
    ...(spec.externalName !== undefined ? { externalName: spec.externalName } : {}),
    ...(spec.ports !== undefined
      ? {
          ports: spec.ports.map((p) => ({
            port: p.port,
            ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
            ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
          })),
        }
      : {}),
    ...(slices.length > 0 ? { endpoints: { addresses, ports } } : {}),
  }
}
