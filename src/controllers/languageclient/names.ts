/**
 * Names, paths and condition reasons of the LanguageClient controller (docs/languageclient.md, docs/concepts.md §3).
 * Constants only, so every generated object's name is defined in exactly one place.
 */
import { resource } from "../../kube/resources.ts"

export const KIND = "LanguageClient"
export const CONTAINER = "client"
export const PORT_NAME = "http"

/** ConfigMap `<client>-client`. */
export const configMapName = (client: string): string => `${client}-client`
/** Deployment/Service/Ingress of one region: `<client>-<region>`. */
export const regionalName = (client: string, region: string): string => `${client}-${region}`
/** Secret cert-manager fills for the client's Ingress. */
export const certManagerSecretName = (client: string): string => `${client}-tls`

export const CONFIG_VOLUME = "client-config"
export const CONFIG_DIR = "/etc/langop/client"
export const AUTH_SECRETS_DIR = "/etc/langop/secrets/auth"
export const authVolumeName = (index: number): string => `auth-${index}`
export const SESSION_SECRET_VOLUME = "session-secret"
export const SESSION_SECRET_DIR = "/etc/langop/secrets/session"
export const TLS_VOLUME = "tls"
export const TLS_DIR = "/etc/langop/tls"

export const REGION_TOPOLOGY_LABEL = "topology.kubernetes.io/region"
export const ISSUER_ANNOTATION = "cert-manager.io/issuer"
export const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"

/** cert-manager's namespaced Issuer (looked up to pick the annotation; docs/languageclient.md CL-5). */
export const CertManagerIssuer = resource("cert-manager.io", "v1", "Issuer", "issuers", true)
/** cert-manager Certificate `<client>` issuing the TLS Secret when the pods terminate TLS themselves. */
export const Certificate = resource("cert-manager.io", "v1", "Certificate", "certificates", true)
/** Prometheus Operator ServiceMonitor (created only when its CRD is installed). */
export const ServiceMonitor = resource(
  "monitoring.coreos.com",
  "v1",
  "ServiceMonitor",
  "servicemonitors",
  true,
)

export const Reasons = {
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  InvalidSpec: "InvalidSpec",
  InvalidName: "InvalidName",
  ReservedVolumeName: "ReservedVolumeName",
  CrossNamespaceSecretUnsupported: "CrossNamespaceSecretUnsupported",
  NameConflict: "NameConflict",
  ModelNotFound: "ModelNotFound",
  ToolNotFound: "ToolNotFound",
  AgentNotFound: "AgentNotFound",
  SecretNotFound: "SecretNotFound",
  Resolved: "Resolved",
  AddressAssigned: "AddressAssigned",
  Disabled: "Disabled",
  Pending: "Pending",
  IngressError: "IngressError",
  Applied: "Applied",
  UnsupportedMetric: "UnsupportedMetric",
  ServiceMonitorCRDMissing: "ServiceMonitorCRDMissing",
} as const
