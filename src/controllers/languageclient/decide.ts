/**
 * LanguageClient decisions (docs/languageclient.md §Reconcile sequence). PURE: input → plan: finalizer, a
 * block (invalid spec, cluster membership, dependency wait/failure — existing children are left
 * untouched), or the desired children (each with the live object it is compared with), the children to
 * delete (objects of a layout or option no longer in use) and name conflicts. status.ts turns the plan and
 * what acting on it observed into the status.
 *
 * Guarantees: a child controlled by another object is never written or deleted (`NameConflict`); only
 * children we control are deleted; with nothing changed every child is marked unchanged (no write); a
 * Deployment whose live state could not be read is never written (no ownership check is possible).
 */
import type { LanguageClient } from "../../api/languageclient.ts"
import { FINALIZER } from "../../domain/labels.ts"
import type { KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, type ResourceDescriptor } from "../../kube/resources.ts"
import { needsApply, withAppliedHash } from "../common/apply.ts"
import { type ClusterView, clusterLabelOf, decideMembership } from "../common/cluster-membership.ts"
import type { EnvSourceVersion } from "../common/env-sources.ts"
import { ownershipOf } from "../common/ownership.ts"
import type { PodView } from "../languagetool/workload.ts"
import {
  desiredCertificate,
  desiredConfigMap,
  desiredDeployment,
  desiredHpa,
  desiredIngress,
  desiredPdb,
  desiredService,
  desiredServiceMonitor,
  type IssuerKind,
  issuerName,
  stickySessions,
  type Unit,
  unitsOf,
} from "./children.ts"
import { configMapData } from "./config.ts"
import { type Lookups, type Resolved, referencedSecrets, resolveDependencies } from "./dependencies.ts"
import { Certificate, Reasons, ServiceMonitor } from "./names.ts"
import { validateClient } from "./validate.ts"

export type Role =
  | "configMap"
  | "deployment"
  | "service"
  | "ingress"
  | "pdb"
  | "hpa"
  | "serviceMonitor"
  | "certificate"

export const ROLE_RESOURCE: Readonly<Record<Role, ResourceDescriptor>> = {
  configMap: Builtin.ConfigMap,
  deployment: Builtin.Deployment,
  service: Builtin.Service,
  ingress: Builtin.Ingress,
  pdb: Builtin.PodDisruptionBudget,
  hpa: Builtin.HorizontalPodAutoscaler,
  serviceMonitor: ServiceMonitor,
  certificate: Certificate,
}

const ROLE_OF_KIND: Readonly<Record<string, Role>> = Object.fromEntries(
  Object.entries(ROLE_RESOURCE).map(([role, r]) => [r.kind, role as Role]),
)

/** Ready reason when writing a child of that role failed. */
export const ROLE_ERROR_REASON: Readonly<Record<Role, string>> = {
  configMap: "ConfigMapError",
  deployment: "DeploymentError",
  service: "ServiceError",
  ingress: "IngressError",
  pdb: "PodDisruptionBudgetError",
  hpa: "AutoscalerError",
  serviceMonitor: "ReconcileError",
  certificate: "CertificateError",
}

export interface ClientInput {
  readonly client: LanguageClient
  readonly cluster: ClusterView | undefined
  readonly lookups: Lookups
  /** resourceVersions of the Secrets the client references (undefined = missing). */
  readonly secretVersions: Readonly<Record<string, string | undefined>>
  /** ConfigMaps and Secrets the user's `env`/`envFrom` read, with their versions (config hash). */
  readonly envSources: ReadonlyArray<EnvSourceVersion>
  /**
   * Live children: every cached object labelled as this client's, plus what a GET found for a wanted
   * name missing from the caches (possibly someone else's object).
   */
  readonly live: ReadonlyArray<KubeObject>
  /**
   * Deployments the client wants whose live state could not be read (neither cached nor answered by a
   * GET): they are not written (without a read there is no ownership check) and their phase is Unknown.
   */
  readonly unreadable: ReadonlyArray<Unreadable>
  /** Pods of the client's Deployments (failure detection). */
  readonly pods: ReadonlyArray<PodView & { readonly metadata: { readonly labels?: Record<string, string> } }>
  /** Kind of the cert-manager issuer to annotate (undefined without cert-manager). */
  readonly issuerKind: IssuerKind | undefined
  /** Whether the ServiceMonitor CRD is installed (only asked when a ServiceMonitor is wanted). */
  readonly serviceMonitorCrd: boolean
  readonly clusterDomain: string
  readonly defaultIssuer: string | undefined
  /** RFC 3339 now. */
  readonly now: string
}

export interface Unreadable {
  /** Deployment name. */
  readonly name: string
  readonly error: KubeError
}

export interface ChildApply {
  readonly role: Role
  readonly desired: KubeObject
  readonly live: KubeObject | undefined
  readonly changed: boolean
}

export interface ChildDelete {
  readonly role: Role
  readonly name: string
  readonly uid: string | undefined
}

export type ClientPlan =
  | {
      readonly _tag: "Blocked"
      readonly addFinalizer: boolean
      readonly reason: string
      readonly message: string
      readonly phase: "Pending" | "Failed"
      readonly wait: boolean
      /** Set when the block is a dependency outcome (condition DependenciesResolved=False). */
      readonly dependency: boolean
    }
  | {
      readonly _tag: "Reconcile"
      readonly addFinalizer: boolean
      readonly units: ReadonlyArray<Unit>
      readonly dependencies: Resolved
      readonly apply: ReadonlyArray<ChildApply>
      readonly delete: ReadonlyArray<ChildDelete>
      readonly conflicts: ReadonlyArray<{ readonly role: Role; readonly message: string }>
      readonly hpaUnsupported: ReadonlyArray<string>
      /** Non-fatal notes for the Ready message (§Sessions, §ServiceMonitor). */
      readonly warnings: ReadonlyArray<string>
      /**
       * A ServiceMonitor is wanted: it has no informer (its CRD may not exist), so edits to it trigger
       * nothing and the client is reconciled again after the monitor re-check interval to revert them.
       */
      readonly recheckMonitor: boolean
    }

const keyOfChild = (kind: string, name: string) => `${kind}/${name}`

/** Names every wanted child would have (gather GETs those missing from the caches). */
export const wantedChildren = (client: LanguageClient): ReadonlyArray<{ role: Role; name: string }> => {
  const name = client.metadata.name ?? ""
  const units = unitsOf(client)
  const regional = units.some((u) => u.region !== undefined)
  return [
    { role: "configMap", name: `${name}-client` },
    ...units.flatMap((u) => [
      { role: "deployment" as const, name: u.name },
      { role: "service" as const, name: u.name },
      ...(u.region?.ingress?.enabled === true ? [{ role: "ingress" as const, name: u.name }] : []),
      ...(client.spec.horizontalPodAutoscaler?.enabled === true
        ? [{ role: "hpa" as const, name: u.name }]
        : []),
    ]),
    ...(regional ? [{ role: "service" as const, name }] : []),
    ...(client.spec.ingress?.enabled === true ? [{ role: "ingress" as const, name }] : []),
    ...(client.spec.podDisruptionBudget !== undefined ? [{ role: "pdb" as const, name }] : []),
    // Looked up whether wanted or not: it has no informer (cert-manager may be absent), and one that is no
    // longer wanted must be found to be removed.
    { role: "certificate", name },
  ]
}

const sessionWarnings = (client: LanguageClient): ReadonlyArray<string> => {
  const session = client.spec.sessionConfig
  const https = client.spec.tls?.enabled === true || (client.spec.ingress?.tls ?? []).length > 0
  const out: Array<string> = []
  if (stickySessions(client))
    out.push(
      "memory sessions with more than one replica: the Service uses ClientIP affinity, but ingress controllers bypass it — configure sticky routing on the Ingress via spec.ingress.annotations (or use a shared session backend)",
    )
  if (session?.cookieConfig?.secure === true && !https)
    out.push(
      "sessionConfig.cookieConfig.secure is true but neither TLS nor an HTTPS ingress is configured: browsers will not send the cookie back over plain HTTP",
    )
  if (session?.enablePersistence === true && session.backend === "memory")
    out.push("sessionConfig.enablePersistence has no effect with the memory backend (nothing persists)")
  return out
}

export const decide = (input: ClientInput): ClientPlan => {
  const { client } = input
  const addFinalizer = !(client.metadata.finalizers ?? []).includes(FINALIZER)
  const blocked = (reason: string, message: string, wait: boolean, dependency: boolean): ClientPlan => ({
    _tag: "Blocked",
    addFinalizer,
    reason,
    message,
    phase: wait ? "Pending" : "Failed",
    wait,
    dependency,
  })
  const invalid = validateClient(client, input.defaultIssuer)
  if (invalid !== undefined) return blocked(invalid.reason, invalid.message, false, false)
  const membership = decideMembership(client.spec.clusterRef, client.metadata.namespace ?? "", input.cluster)
  if (membership._tag === "Blocked")
    return blocked(membership.reason, membership.message, membership.wait, false)
  const deps = resolveDependencies(client, input.lookups, input.clusterDomain)
  if (!deps.ok) return blocked(deps.reason, deps.message, deps.wait, true)

  const cluster = clusterLabelOf(membership)
  const name = client.metadata.name ?? ""
  const units = unitsOf(client)
  const regional = units.some((u) => u.region !== undefined)
  const configData = configMapData({ client, ...deps })
  const secretVersions = Object.fromEntries(
    referencedSecrets(client).map((s) => [s, input.secretVersions[s]] as const),
  )
  const podInputs = { ...deps, configData, secretVersions, envSources: input.envSources }
  const issuer = issuerName(client, input.defaultIssuer)
  const issuerRef =
    issuer !== undefined ? { name: issuer, kind: input.issuerKind ?? "ClusterIssuer" } : undefined
  const hpaUnsupported: Array<string> = []
  const desired: Array<readonly [Role, KubeObject]> = [
    ["configMap", desiredConfigMap(client, cluster, configData)],
  ]
  for (const unit of units) {
    const region = unit.region?.name
    desired.push(["deployment", desiredDeployment(client, unit, cluster, podInputs)])
    desired.push(["service", desiredService(client, unit.name, region, cluster)])
    if (unit.region?.ingress?.enabled === true)
      desired.push([
        "ingress",
        desiredIngress(client, unit.region.ingress, unit.name, unit.name, region, cluster, issuerRef),
      ])
    const hpa = desiredHpa(client, unit, cluster)
    if (hpa.object !== undefined) desired.push(["hpa", hpa.object])
    for (const u of hpa.unsupported) if (!hpaUnsupported.includes(u)) hpaUnsupported.push(u)
  }
  if (regional) desired.push(["service", desiredService(client, name, undefined, cluster)])
  if (client.spec.ingress?.enabled === true)
    desired.push([
      "ingress",
      desiredIngress(client, client.spec.ingress, name, name, undefined, cluster, issuerRef),
    ])
  const pdb = desiredPdb(client, cluster)
  if (pdb !== undefined) desired.push(["pdb", pdb])
  const warnings = [...sessionWarnings(client)]
  const certificate =
    issuerRef === undefined ? undefined : desiredCertificate(client, cluster, issuerRef, input.clusterDomain)
  if (certificate !== undefined) {
    desired.push(["certificate", certificate])
    const secret = certificate.spec as { readonly secretName: string }
    if (input.secretVersions[secret.secretName] === undefined)
      warnings.push(
        `TLS Secret "${secret.secretName}" is not issued yet; pods start once cert-manager issues Certificate "${name}"`,
      )
  }
  const monitor = desiredServiceMonitor(client, cluster)
  if (monitor !== undefined) {
    if (input.serviceMonitorCrd) desired.push(["serviceMonitor", monitor])
    else
      warnings.push(
        `${Reasons.ServiceMonitorCRDMissing}: monitoring.serviceMonitor is set but the monitoring.coreos.com ServiceMonitor CRD is not installed; none created`,
      )
  }

  const liveByKey = new Map(input.live.map((o) => [keyOfChild(o.kind ?? "", o.metadata.name ?? ""), o]))
  const uid = client.metadata.uid ?? ""
  const apply: Array<ChildApply> = []
  const conflicts: Array<{ role: Role; message: string }> = []
  const wanted = new Set<string>()
  const unreadable = new Set(input.unreadable.map((u) => keyOfChild("Deployment", u.name)))
  for (const [role, object] of desired) {
    const key = keyOfChild(object.kind ?? "", object.metadata.name ?? "")
    wanted.add(key)
    if (unreadable.has(key)) continue
    const live = liveByKey.get(key)
    const owner = ownershipOf(live, uid)
    if (owner._tag === "Foreign") {
      conflicts.push({
        role,
        message: `${object.kind ?? ""} "${object.metadata.name ?? ""}" is controlled by ${owner.kind} "${owner.name}"; rename one of them`,
      })
      continue
    }
    const complete = withAppliedHash(object)
    apply.push({ role, desired: complete, live, changed: needsApply(complete, live) })
  }
  const deletions: Array<ChildDelete> = []
  for (const live of input.live) {
    const role = ROLE_OF_KIND[live.kind ?? ""]
    const key = keyOfChild(live.kind ?? "", live.metadata.name ?? "")
    if (role === undefined || wanted.has(key) || ownershipOf(live, uid)._tag !== "Ours") continue
    deletions.push({ role, name: live.metadata.name ?? "", uid: live.metadata.uid })
  }
  deletions.sort((a, b) => (`${a.role}/${a.name}` < `${b.role}/${b.name}` ? -1 : 1))
  return {
    _tag: "Reconcile",
    addFinalizer,
    units,
    dependencies: deps,
    apply,
    delete: deletions,
    conflicts,
    hpaUnsupported,
    warnings,
    recheckMonitor: desired.some(([role]) => role === "serviceMonitor"),
  }
}
