/**
 * The Helm chart under `deploy/helm/langop/`, generated from the kustomize install (`npm run manifests`
 * writes it, `npm run manifests:check` fails when it is stale), so the two can never drift apart.
 *
 * How: both kustomize variants are rendered (src/operator/kustomize.ts); objects equal in both become the
 * chart's unconditional templates, the rest are rendered only for their `certificates.source`. Then the
 * few fields a platform team sets per installation are replaced by values whose defaults are read from the
 * kustomize objects: the namespace (every occurrence, including DNS names and the cainjector reference),
 * the image, its pull policy, the replica count and the resources. CRDs go to `crds/`, where Helm installs
 * them before anything else and never deletes them (uninstalling the chart must not delete every
 * LanguageAgent in the cluster); `helm upgrade` leaves them alone, so upgrades apply `crds/` first.
 *
 * Guarantees: pure apart from `read`; with the default values `helm template --include-crds` renders
 * exactly the objects `kubectl kustomize deploy/` renders, and with `certificates.source=self` those of
 * `deploy/overlays/self-managed-certs/` (test/integration/deploy/helm.test.ts checks both with real helm).
 */
import { isDeepStrictEqual } from "node:util"
import { stringify } from "yaml"
import { allKinds } from "../api/index.ts"
import { crdFileName, crdYaml } from "../crd/generate.ts"
import { kustomize, type Obj, type Read } from "./kustomize.ts"

export const ChartDir = "deploy/helm/langop"
const ChartName = "langop"
const OperatorNamespace = "langop-system"
const OperatorContainer = "operator"

/** The two ways the admission certificate is provided, and the kustomize directory installing each. */
export const CertificateSources = [
  { source: "cert-manager", dir: "deploy" },
  { source: "self", dir: "deploy/overlays/self-managed-certs" },
] as const

const CrdFiles = new Set(allKinds.map((k) => `deploy/base/crds/${crdFileName(k)}`))

const keyOf = (o: Obj) => {
  const m = (o.metadata ?? {}) as Obj
  return `${String(o.kind)}/${String(m.namespace ?? "")}/${String(m.name)}`
}

// Placeholders survive YAML serialisation as plain scalars and are then replaced by template actions.
const token = (name: string) => `HELMVALUE0${name}0`
const ACTIONS: Readonly<Record<string, string>> = {
  namespace: "{{ .Values.namespace.name }}",
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}",
  pullPolicy: "{{ .Values.image.pullPolicy }}",
  replicas: "{{ .Values.replicas }}",
}

const replaceStrings = (v: unknown, from: string, to: string): unknown =>
  typeof v === "string"
    ? v.replaceAll(from, to)
    : Array.isArray(v)
      ? v.map((x) => replaceStrings(x, from, to))
      : typeof v === "object" && v !== null
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceStrings(x, from, to)]))
        : v

interface Container {
  name: string
  image: string
  imagePullPolicy: string
  resources: Obj
}
interface Deployment {
  kind: "Deployment"
  spec: { replicas: number; template: { spec: { containers: Array<Container> } } }
}

const operatorContainer = (d: Deployment): Container => {
  const c = d.spec.template.spec.containers.find((x) => x.name === OperatorContainer)
  if (c === undefined) throw new Error(`the operator Deployment has no container "${OperatorContainer}"`)
  return c
}

/** The defaults: what the kustomize install sets. */
export interface ChartDefaults {
  readonly namespace: string
  readonly repository: string
  readonly tag: string
  readonly pullPolicy: string
  readonly replicas: number
  readonly resources: Obj
}

const defaultsOf = (objects: ReadonlyArray<Obj>): ChartDefaults => {
  const deployment = objects.find((o) => o.kind === "Deployment") as Deployment | undefined
  if (deployment === undefined) throw new Error("the kustomize install has no Deployment")
  const c = operatorContainer(deployment)
  const at = c.image.lastIndexOf(":")
  if (at <= c.image.lastIndexOf("/")) throw new Error(`the operator image ${c.image} has no tag`)
  return {
    namespace: OperatorNamespace,
    repository: c.image.slice(0, at),
    tag: c.image.slice(at + 1),
    pullPolicy: c.imagePullPolicy,
    replicas: deployment.spec.replicas,
    resources: c.resources,
  }
}

/** One object as template text: its per-installation fields replaced by value references. */
const templateOf = (o: Obj): string => {
  let x = replaceStrings(o, OperatorNamespace, token("namespace")) as Obj
  if (x.kind === "Deployment") {
    const d = structuredClone(x) as unknown as Deployment
    d.spec.replicas = token("replicas") as unknown as number
    const c = operatorContainer(d)
    c.image = token("image")
    c.imagePullPolicy = token("pullPolicy")
    c.resources = token("resources") as unknown as Obj
    x = d as unknown as Obj
  }
  return stringify(x, { lineWidth: 0 })
    .replace(
      new RegExp(`^( *)resources: ${token("resources")}$`, "mu"),
      (_m, indent: string) =>
        `${indent}resources:\n${indent}  {{- toYaml .Values.resources | nindent ${indent.length + 2} }}`,
    )
    .replace(/HELMVALUE0(\w+?)0/gu, (_m, name: string) => {
      const action = ACTIONS[name]
      if (action === undefined) throw new Error(`no template action for ${name}`)
      return action
    })
}

const documents = (objects: ReadonlyArray<Obj>) => objects.map((o) => `---\n${templateOf(o)}`).join("")

const header = (what: string) =>
  `# Generated by \`npm run manifests\` from ${what} (src/operator/helm-chart.ts). Do not edit.\n`

const valuesYaml = (d: ChartDefaults): string =>
  `${header("the kustomize install under deploy/")}# The defaults install exactly what \`kubectl apply -k deploy/\` installs.

namespace:
  # Namespace the operator, its Service, RBAC and certificate objects live in.
  name: ${d.namespace}
  # Create it (with the restricted Pod Security Standard enforced). Set false to install into a namespace
  # that already exists, e.g. with \`helm install -n <name> --create-namespace\`.
  create: true

image:
  repository: ${d.repository}
  tag: "${d.tag}"
  pullPolicy: ${d.pullPolicy}

# Operator replicas: controllers run on the Lease holder only, every replica answers admission requests.
replicas: ${d.replicas}

# Operator container resources.
${stringify({ resources: d.resources }, { lineWidth: 0 }).trimEnd()}

certificates:
  # Who issues the admission server's certificate: cert-manager (needs cert-manager in the cluster) or
  # self (the operator's own certificate manager keeps a CA and the certificate in a Secret and rotates it).
  source: cert-manager
`

const valuesSchema = (d: ChartDefaults) =>
  `${JSON.stringify(
    {
      $schema: "https://json-schema.org/draft-07/schema#",
      title: "langop chart values",
      type: "object",
      additionalProperties: false,
      required: ["namespace", "image", "replicas", "resources", "certificates"],
      properties: {
        namespace: {
          type: "object",
          additionalProperties: false,
          required: ["name", "create"],
          properties: {
            name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 },
            create: { type: "boolean" },
          },
        },
        image: {
          type: "object",
          additionalProperties: false,
          required: ["repository", "tag", "pullPolicy"],
          properties: {
            repository: { type: "string", minLength: 1 },
            tag: { type: "string", minLength: 1 },
            pullPolicy: { enum: ["Always", "IfNotPresent", "Never"] },
          },
        },
        replicas: { type: "integer", minimum: 1 },
        resources: { type: "object", default: d.resources },
        certificates: {
          type: "object",
          additionalProperties: false,
          required: ["source"],
          properties: { source: { enum: CertificateSources.map((s) => s.source) } },
        },
      },
    },
    null,
    2,
  )}\n`

const chartYaml = (version: string, d: ChartDefaults) =>
  `${header("package.json")}${stringify(
    {
      apiVersion: "v2",
      name: ChartName,
      description:
        "langop: a Kubernetes operator that runs AI agents, MCP tool servers, LLM proxies, personas and client endpoints",
      type: "application",
      version,
      appVersion: d.tag,
      keywords: ["operator", "ai", "agents", "mcp", "llm"],
    },
    { lineWidth: 0 },
  )}`

const NOTES = `langop {{ .Chart.AppVersion }} runs in namespace {{ .Values.namespace.name }} (certificates: {{ .Values.certificates.source }}).

  kubectl -n {{ .Values.namespace.name }} rollout status deployment/langop-operator
  kubectl get langop -A

Helm installs the CRDs from crds/ but never upgrades them: before \`helm upgrade\`, run
\`kubectl apply -f crds/\` from this chart's directory.
`

/** Every chart file by path relative to the repository root. */
export const helmChartFiles = (read: Read, version: string): ReadonlyMap<string, string> => {
  const rendered = CertificateSources.map((v) => ({
    source: v.source,
    // The CRD files are crdYaml's output, which crds/ below holds as well.
    objects: kustomize(v.dir, read, (file) => CrdFiles.has(file)).filter(
      (o) => o.kind !== "CustomResourceDefinition",
    ),
  }))
  const [first, ...rest] = rendered
  if (first === undefined) throw new Error("no certificate source")
  const common = first.objects.filter((o) =>
    rest.every((r) => r.objects.some((x) => keyOf(x) === keyOf(o) && isDeepStrictEqual(x, o))),
  )
  const inAll = (o: Obj) => common.some((c) => keyOf(c) === keyOf(o) && isDeepStrictEqual(c, o))
  const defaults = defaultsOf(first.objects)
  for (const r of rest)
    if (!isDeepStrictEqual(defaultsOf(r.objects), defaults))
      throw new Error(`the ${r.source} variant's Deployment differs in a value the chart sets`)
  const namespace = common.filter((o) => o.kind === "Namespace")
  if (namespace.length !== 1 || keyOf(namespace[0] ?? {}) !== `Namespace//${OperatorNamespace}`)
    throw new Error(`the kustomize install must create exactly the Namespace ${OperatorNamespace}`)
  const files: Array<[string, string]> = [
    [`${ChartDir}/Chart.yaml`, chartYaml(version, defaults)],
    [`${ChartDir}/values.yaml`, valuesYaml(defaults)],
    [`${ChartDir}/values.schema.json`, valuesSchema(defaults)],
    [`${ChartDir}/templates/NOTES.txt`, NOTES],
    [
      `${ChartDir}/templates/namespace.yaml`,
      `${header("deploy/base")}{{- if .Values.namespace.create }}\n${documents(namespace)}{{- end }}\n`,
    ],
    [
      `${ChartDir}/templates/operator.yaml`,
      header("deploy/base and what both certificate variants share") +
        documents(common.filter((o) => o.kind !== "Namespace")),
    ],
    ...rendered.map((r): [string, string] => [
      `${ChartDir}/templates/certificates-${r.source}.yaml`,
      `${header(CertificateSources.find((s) => s.source === r.source)?.dir ?? "")}{{- if eq .Values.certificates.source "${r.source}" }}\n${documents(r.objects.filter((o) => !inAll(o)))}{{- end }}\n`,
    ]),
    ...allKinds.map((k): [string, string] => [`${ChartDir}/crds/${crdFileName(k)}`, crdYaml(k)]),
  ]
  return new Map(files)
}

/** Chart directories whose files are all generated (stale extra files there are reported). */
export const helmGeneratedDirs: ReadonlyArray<string> = [`${ChartDir}/crds`, `${ChartDir}/templates`]
