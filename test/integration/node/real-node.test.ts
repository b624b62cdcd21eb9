// The real node beside the kwok node: containerd runs real containers, CoreDNS answers, kube-proxy
// serves Services, the API server streams logs and exec, and nothing of it reaches the machine.
import { createServer } from "node:net"
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node"
import { describe, expect, inject, vi } from "vitest"
import { kubectl, clusterTest as test } from "../setup/context.ts"
import type {} from "./provided.ts"
import { readKernelSettings } from "./setup.ts"

const poll = { timeout: 120_000, interval: 500 } as const
const onRealNode = {
  nodeSelector: { "langop.io/real-node": "true" },
  tolerations: [{ key: "langop.io/real-node", operator: "Exists", effect: "NoSchedule" }],
}
const restricted = {
  runAsNonRoot: true,
  runAsUser: 65532,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
}

const debugPod = (
  name: string,
  command: ReadonlyArray<string>,
  labels: Record<string, string> = {},
): V1Pod => ({
  metadata: { name, labels },
  spec: {
    ...onRealNode,
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: "main",
        image: "langop/debug:dev",
        imagePullPolicy: "Never",
        command: [...command],
        securityContext: restricted,
      },
    ],
  },
})

const exec = (namespace: string, pod: string, command: ReadonlyArray<string>) =>
  kubectl(["exec", "-n", namespace, pod, "--", ...command])

const runningPod = async (core: CoreV1Api, namespace: string, name: string) =>
  vi.waitFor(async () => {
    const p = await core.readNamespacedPod({ name, namespace })
    expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True")
    return p
  }, poll)

describe("real node", () => {
  test("is Ready with the containerd runtime, tainted so only tolerating Pods land there", async ({ kc }) => {
    const node = await kc.makeApiClient(CoreV1Api).readNode({ name: inject("realNodeName") })
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True")
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./)
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.37.2")
    expect(node.spec?.taints).toContainEqual({
      key: "langop.io/real-node",
      value: "true",
      effect: "NoSchedule",
    })
    expect(node.status?.addresses).toContainEqual({
      type: "InternalIP",
      address: expect.stringMatching(/^198\.18\./),
    })
  })

  test("runs a Pod as the uid it asks for; kubectl logs and exec reach it", async ({ kc, namespace }) => {
    const core = kc.makeApiClient(CoreV1Api)
    const token = `token-${namespace}`
    await core.createNamespacedPod({
      namespace,
      body: debugPod("echo", ["sh", "-c", `echo ${token}; exec sleep 3600`]),
    })
    const pod = await runningPod(core, namespace, "echo")
    expect(pod.spec?.nodeName).toBe(inject("realNodeName"))
    expect(pod.status?.podIP).toMatch(/^198\.19\./)
    await vi.waitFor(async () => {
      const logs = await kubectl(["logs", "-n", namespace, "echo"])
      expect(logs.stdout).toContain(token)
    }, poll)
    const id = await exec(namespace, "echo", ["id", "-u"])
    expect(id.stderr).toBe("")
    expect(id.stdout.trim()).toBe("65532")
    const seccomp = await exec(namespace, "echo", ["grep", "^Seccomp:", "/proc/self/status"])
    expect(seccomp.stdout).toMatch(/Seccomp:\s+2/)
  })

  // CoreDNS itself watches the API through the `kubernetes` Service, so a Service created during the
  // test resolving also shows Pods reach the API server.
  test("CoreDNS answers cluster names inside a Pod, and no name outside the cluster", async ({
    kc,
    namespace,
  }) => {
    const core = kc.makeApiClient(CoreV1Api)
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: "named" }, spec: { selector: { app: "none" }, ports: [{ port: 80 }] } },
    })
    const svc = await core.readNamespacedService({ name: "named", namespace })
    await core.createNamespacedPod({ namespace, body: debugPod("dns", ["sleep", "3600"]) })
    await runningPod(core, namespace, "dns")
    const own = await exec(namespace, "dns", ["nslookup", `named.${namespace}.svc.cluster.local`])
    expect(own.exitCode).toBe(0)
    expect(own.stdout).toContain(`Address: ${svc.spec?.clusterIP}`)
    const api = await exec(namespace, "dns", ["nslookup", "kubernetes.default.svc.cluster.local"])
    expect(api.stdout).toContain("Address: 10.0.0.1")
    const missing = await exec(namespace, "dns", ["nslookup", `absent.${namespace}.svc.cluster.local`])
    expect(missing.exitCode).not.toBe(0)
  })

  test("a Service reaches each of its Pods through kube-proxy", async ({ kc, namespace }) => {
    const core = kc.makeApiClient(CoreV1Api)
    const serve = [
      "sh",
      "-c",
      "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www",
    ]
    for (const name of ["web-a", "web-b"])
      await core.createNamespacedPod({ namespace, body: debugPod(name, serve, { app: "web" }) })
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    })
    await core.createNamespacedPod({ namespace, body: debugPod("client", ["sleep", "3600"]) })
    for (const name of ["web-a", "web-b", "client"]) await runningPod(core, namespace, name)
    const seen = new Set<string>()
    await vi.waitFor(async () => {
      const r = await exec(namespace, "client", [
        "wget",
        "-q",
        "-O",
        "-",
        `http://web.${namespace}.svc.cluster.local/`,
      ])
      if (r.exitCode === 0) seen.add(r.stdout.trim())
      expect([...seen].sort()).toEqual(["web-a", "web-b"])
    }, poll)
  })

  test("the operator image loads its sources and dependencies as uid 1000 on a read-only root", async ({
    kc,
    namespace,
  }) => {
    const core = kc.makeApiClient(CoreV1Api)
    // `--help` makes main.ts print its usage and exit after every module it imports has loaded.
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "operator" },
        spec: {
          ...onRealNode,
          restartPolicy: "Never",
          containers: [
            {
              name: "operator",
              image: "langop/operator:dev",
              imagePullPolicy: "Never",
              args: ["node", "src/main.ts", "--help"],
              securityContext: { ...restricted, runAsUser: 1000, readOnlyRootFilesystem: true },
            },
          ],
        },
      },
    })
    await vi.waitFor(async () => {
      const p = await core.readNamespacedPod({ name: "operator", namespace })
      expect(p.status?.phase).toBe("Succeeded")
    }, poll)
    const logs = await kubectl(["logs", "-n", namespace, "operator"])
    expect(logs.stdout).toContain("usage: npm start")
    const version = await kubectl([
      "run",
      "-n",
      namespace,
      "node-version",
      "--image=langop/operator:dev",
      "--image-pull-policy=Never",
      "--restart=Never",
      `--overrides=${JSON.stringify({ spec: onRealNode })}`,
      "--command",
      "--",
      "node",
      "-p",
      "process.version + ' ' + process.getuid()",
    ])
    expect(version.exitCode).toBe(0)
    await vi.waitFor(async () => {
      const out = await kubectl(["logs", "-n", namespace, "node-version"])
      expect(out.stdout.trim()).toMatch(/^v24\.\d+\.\d+ 1000$/)
    }, poll)
  })

  test("contained: the machine's kernel settings are untouched and Pods cannot connect to the host", async ({
    kc,
    namespace,
  }) => {
    expect(readKernelSettings()).toEqual(inject("hostKernelSettingsBefore"))
    // A listener on the host's end of the node link: reachable only through the node's network.
    const server = createServer((s) => s.end("host\n"))
    await new Promise<void>((resolve) => server.listen(0, inject("realNodeHostIp"), resolve))
    try {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const core = kc.makeApiClient(CoreV1Api)
      await core.createNamespacedPod({ namespace, body: debugPod("probe", ["sleep", "3600"]) })
      await runningPod(core, namespace, "probe")
      const attempt = await exec(namespace, "probe", [
        "nc",
        "-w",
        "3",
        inject("realNodeHostIp"),
        String(port),
      ])
      expect(attempt.stdout).not.toContain("host")
      expect(attempt.exitCode).not.toBe(0)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
