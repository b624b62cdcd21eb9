// Keys that the integration global setup hands to tests via vitest provide/inject.
export {}

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin (system:masters) kubeconfig of the shared local control plane. */
    kubeconfigPath: string
    /** kubectl binary matching the control plane's version. */
    kubectlPath: string
    /** Directory of cert-manager's CRD YAML files (`kubectl apply -f <dir>`). */
    certManagerCrdsDir: string
  }
}
