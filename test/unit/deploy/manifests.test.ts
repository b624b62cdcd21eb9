// deploy/ as files: the generated ones are fresh, and the hand-written ones agree with the code (settings,
// ports, names) and with the security and availability rules the brief sets. Rendering by kustomize and
// acceptance by a real API server are checked in test/integration/deploy/.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { parse, parseAllDocuments } from "yaml"
import { allKinds } from "../../../src/api/index.ts"
import { crdFileName, crdYaml } from "../../../src/crd/generate.ts"
import {
  CertificateNamespaceVar,
  generatedManifests,
  OperatorNamespaceVar,
  ServingSecretName,
} from "../../../src/operator/manifests.ts"
import { settingsTable } from "../../../src/settings.ts"
import {
  CaInjectAnnotation,
  DefaultServiceName,
  DefaultWebhookPort,
} from "../../../src/webhook/configurations.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const deploy = join(root, "deploy")
type Obj = {
  kind: string
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> }
  [k: string]: unknown
}
const docs = (path: string): Array<Obj> =>
  parseAllDocuments(readFileSync(join(deploy, path), "utf8"))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
const one = (path: string, kind: string) => {
  const found = docs(path).find((o) => o.kind === kind)
  if (found === undefined) throw new Error(`${path} has no ${kind}`)
  return found
}

interface Container {
  name: string
  image: string
  env: Array<{ name: string; value?: string; valueFrom?: unknown }>
  ports: Array<{ name: string; containerPort: number }>
  livenessProbe: { httpGet: { path: string; port: string } }
  readinessProbe: { httpGet: { path: string; port: string } }
  resources: { requests: Record<string, string>; limits: Record<string, string> }
  securityContext: Record<string, unknown>
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>
}
const deployment = one("base/deployment.yaml", "Deployment") as Obj & {
  spec: {
    replicas: number
    template: {
      spec: {
        serviceAccountName: string
        securityContext: Record<string, unknown>
        containers: Array<Container>
      }
    }
  }
}
const container = deployment.spec.template.spec.containers[0] as Container
const env = (c: { env: Container["env"] }, name: string) => c.env.find((e) => e.name === name)?.value

// Generated once (the CRDs and the Helm chart take seconds on a busy machine), outside any test's timeout.
const generated = generatedManifests()

describe("generated files", () => {
  it("are what the code generates (npm run manifests)", () => {
    for (const [path, text] of generated) expect(readFileSync(join(root, path), "utf8"), path).toBe(text)
  })

  it("the base holds one copy of each CRD, equal to crds/", () => {
    const files = readdirSync(join(deploy, "base", "crds")).sort()
    expect(files).toEqual(allKinds.map(crdFileName).sort())
    for (const k of allKinds)
      expect(readFileSync(join(root, "crds", crdFileName(k)), "utf8")).toBe(crdYaml(k))
  })

  it("every object fits client-side apply's last-applied annotation (256 KiB), so plain `kubectl apply -k` works", () => {
    // Plain manifests only: the Helm chart's templates become YAML only when helm renders them.
    const all = [...generated]
      .filter(([path]) => path.endsWith(".yaml") && !path.includes("/templates/"))
      .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS()))
    for (const o of all) expect(JSON.stringify(o).length).toBeLessThan(262_144)
  })
})

describe("the operator Deployment", () => {
  it("runs 2 replicas with leader election on", () => {
    expect(deployment.spec.replicas).toBe(2)
    expect(env(container, "LANGOP_LEADER_ELECT")).toBe("true")
  })

  it("sets only settings that exist (plus the downward API and Node options)", () => {
    const known = new Set([...settingsTable.map((r) => r.env), "POD_NAMESPACE", "POD_NAME", "NODE_OPTIONS"])
    for (const e of container.env) expect(known, e.name).toContain(e.name)
    for (const patch of [
      "components/cert-manager/deployment-patch.yaml",
      "components/self-managed-certs/deployment-patch.yaml",
    ]) {
      const c = (one(patch, "Deployment") as unknown as typeof deployment).spec.template.spec
        .containers[0] as Container
      for (const e of c.env) expect(known, e.name).toContain(e.name)
    }
  })

  it("probes /healthz and /readyz on the health port the settings bind", () => {
    const health = container.ports.find((p) => p.name === "health")
    expect(env(container, "LANGOP_HEALTH_PROBE_BIND_ADDRESS")).toBe(`0.0.0.0:${health?.containerPort}`)
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" })
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" })
    const metrics = container.ports.find((p) => p.name === "metrics")
    expect(env(container, "LANGOP_METRICS_BIND_ADDRESS")).toBe(`0.0.0.0:${metrics?.containerPort}`)
    expect(container.ports.find((p) => p.name === "webhook")?.containerPort).toBe(DefaultWebhookPort)
    expect(env(container, "LANGOP_WEBHOOK_PORT")).toBe(String(DefaultWebhookPort))
    expect(env(container, "LANGOP_WEBHOOK_HOST")).toBe("0.0.0.0")
  })

  it("has requests and limits and the restricted security context with a read-only root", () => {
    expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"])
    expect(container.resources.limits.memory).toBeDefined()
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    })
    expect(deployment.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    })
    expect(deployment.spec.template.spec.serviceAccountName).toBe("langop-operator")
  })

  it("mounts the serving certificate where LANGOP_CERT_DIR points, from the Secret the Certificate fills", () => {
    const certDir = env(container, "LANGOP_CERT_DIR")
    const patch = one("components/cert-manager/deployment-patch.yaml", "Deployment") as unknown as {
      spec: {
        template: {
          spec: {
            containers: Array<Container>
            volumes: Array<{ name: string; secret?: { secretName: string; defaultMode?: number } }>
          }
        }
      }
    }
    const c = patch.spec.template.spec.containers[0] as Container
    expect(env(c, "LANGOP_CERT_SOURCE")).toBe("cert-manager")
    expect(c.volumeMounts).toContainEqual({ name: "serving-certs", mountPath: certDir, readOnly: true })
    const secret = patch.spec.template.spec.volumes[0]?.secret
    expect(secret?.secretName).toBe(ServingSecretName)
    // The files are root-owned with the pod's fsGroup as group: the non-root user reads them through the
    // group bits, so the mode must grant group read and the pod must set fsGroup to its own group.
    const pod = deployment.spec.template.spec.securityContext as { runAsGroup?: number; fsGroup?: number }
    expect((secret?.defaultMode ?? 0o644) & 0o040).toBe(0o040)
    expect(pod.fsGroup).toBeDefined()
    expect(pod.fsGroup).toBe(pod.runAsGroup)
    const cert = docs("components/cert-manager/certificates.yaml").find(
      (o) => o.kind === "Certificate" && o.metadata.name === "langop-serving-cert",
    ) as Obj & { spec: { secretName: string; dnsNames: Array<string> } }
    expect(cert.spec.secretName).toBe(ServingSecretName)
    // The namespace is kustomize's variable of the Deployment's final namespace (rendered in
    // test/integration/deploy/namespace.test.ts).
    expect(cert.spec.dnsNames).toEqual([
      `${DefaultServiceName}.${OperatorNamespaceVar}.svc`,
      `${DefaultServiceName}.${OperatorNamespaceVar}.svc.cluster.local`,
    ])
  })

  it("self-managed certificates: a writable certificate directory and LANGOP_CERT_SOURCE=self", () => {
    const patch = one("components/self-managed-certs/deployment-patch.yaml", "Deployment") as unknown as {
      spec: {
        template: {
          spec: { containers: Array<Container>; volumes: Array<{ name: string; emptyDir?: unknown }> }
        }
      }
    }
    const c = patch.spec.template.spec.containers[0] as Container
    expect(env(c, "LANGOP_CERT_SOURCE")).toBe("self")
    expect(c.volumeMounts[0]?.readOnly).toBeUndefined()
    expect(c.volumeMounts[0]?.mountPath).toBe(env(container, "LANGOP_CERT_DIR"))
    expect(patch.spec.template.spec.volumes[0]?.emptyDir).toBeDefined()
  })
})

describe("Service and webhook configurations", () => {
  it("the Service maps 443 to the webhook port and exposes metrics", () => {
    const svc = one("base/service.yaml", "Service") as Obj & {
      spec: {
        selector: Record<string, string>
        ports: Array<{ name: string; port: number; targetPort: string }>
      }
    }
    expect(svc.metadata.name).toBe(DefaultServiceName)
    expect(svc.spec.ports).toContainEqual({
      name: "webhook",
      port: 443,
      targetPort: "webhook",
      protocol: "TCP",
    })
    expect(svc.spec.ports.map((p) => p.name)).toContain("metrics")
    const labels = (deployment.spec.template as unknown as { metadata: { labels: Record<string, string> } })
      .metadata.labels
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k]).toBe(v)
  })

  it("cert-manager variant: both configurations name the serving Certificate for cainjector", () => {
    for (const o of docs("components/cert-manager/webhooks.yaml")) {
      expect(o.metadata.annotations?.[CaInjectAnnotation]).toBe(
        `${CertificateNamespaceVar}/langop-serving-cert`,
      )
      for (const w of (o as unknown as { webhooks: Array<{ clientConfig: Record<string, unknown> }> })
        .webhooks) {
        expect(w.clientConfig.service).toMatchObject({
          namespace: "langop-system",
          name: DefaultServiceName,
          port: 443,
        })
        expect(w.clientConfig.caBundle).toBeUndefined()
      }
    }
  })

  it("self-managed variant: no annotation and no caBundle (the operator patches it in)", () => {
    for (const o of docs("components/self-managed-certs/webhooks.yaml")) {
      expect(o.metadata.annotations).toBeUndefined()
      for (const w of (o as unknown as { webhooks: Array<{ clientConfig: Record<string, unknown> }> })
        .webhooks)
        expect(w.clientConfig.caBundle).toBeUndefined()
    }
  })

  it("kustomizations reference only files that exist", () => {
    for (const dir of [
      "",
      "base",
      "components/cert-manager",
      "components/self-managed-certs",
      "overlays/self-managed-certs",
    ]) {
      const k = parse(readFileSync(join(deploy, dir, "kustomization.yaml"), "utf8")) as {
        resources?: Array<string>
        components?: Array<string>
        patches?: Array<{ path: string }>
      }
      for (const r of [
        ...(k.resources ?? []),
        ...(k.components ?? []),
        ...(k.patches ?? []).map((p) => p.path),
      ])
        expect(existsSync(join(deploy, dir, r)), `${dir}/${r}`).toBe(true)
    }
  })
})

describe("Dockerfile", () => {
  const text = readFileSync(join(deploy, "Dockerfile"), "utf8")
  const lines = text.split("\n").filter((l) => !l.startsWith("#"))

  it("Node 24, production dependencies only, non-root numeric user", () => {
    expect(lines.find((l) => l.startsWith("FROM "))).toMatch(/^FROM node:24[-.\w]*$/u)
    expect(text).toMatch(/npm ci --omit=dev/u)
    expect(lines.find((l) => l.startsWith("USER "))).toMatch(/^USER [1-9]\d*(:\d+)?$/u)
  })

  it("copies what exists and runs `node src/main.ts` (what npm start runs)", () => {
    for (const l of lines.filter((x) => x.startsWith("COPY "))) {
      const sources = l.split(/\s+/u).slice(1, -1)
      for (const s of sources) expect(existsSync(join(root, s)), s).toBe(true)
    }
    const cmd = JSON.parse(lines.find((l) => l.startsWith("CMD "))?.slice(4) ?? "[]") as Array<string>
    expect(cmd).toEqual(["node", "src/main.ts"])
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.start).toBe(cmd.join(" "))
  })
})
