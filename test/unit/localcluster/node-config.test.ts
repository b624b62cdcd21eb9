import { describe, expect, it } from "@effect/vitest"
import { parse, parseAllDocuments } from "yaml"
import { serviceCidr } from "../../../src/localcluster/components.ts"
import {
  clusterDnsIp,
  cniConflist,
  containerdConfigToml,
  kubeletConfigYaml,
  kubeletSysctls,
  kubeProxyConfigYaml,
  maxNodes,
  nodeDirs,
  planNode,
} from "../../../src/localcluster/node/config.ts"
import { apiserverEndpointSlice, corednsManifests, corefile } from "../../../src/localcluster/node/dns.ts"
import { cgroupV1Hierarchies } from "../../../src/localcluster/node/host.ts"

const ipToInt = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0)
const inCidr = (ip: string, cidr: string) => {
  const [base = "", bits = "0"] = cidr.split("/")
  const mask = 2 ** (32 - Number(bits))
  return Math.floor(ipToInt(ip) / mask) === Math.floor(ipToInt(base) / mask)
}

describe("planNode", () => {
  const plans = Array.from({ length: maxNodes }, (_, i) => planNode(i, `n${i}`))

  it("keeps every address inside the benchmarking range 198.18.0.0/15, none shared between nodes", () => {
    const seen = new Set<string>()
    for (const p of plans) {
      for (const ip of [p.hostIp, p.nodeIp, p.podGateway]) {
        expect(inCidr(ip, "198.18.0.0/15")).toBe(true)
        expect(seen.has(ip)).toBe(false)
        seen.add(ip)
      }
      expect(inCidr(p.hostIp, `${p.nodeIp}/${p.linkPrefix}`)).toBe(true)
      expect(inCidr(p.podGateway, p.podCidr)).toBe(true)
      expect(inCidr(p.nodeIp, p.podCidr)).toBe(false)
    }
    const cidrs = new Set(plans.map((p) => p.podCidr))
    expect(cidrs.size).toBe(maxNodes)
  })

  it("names fit the kernel's 15-character interface limit and are unique", () => {
    for (const p of plans) expect(p.hostVeth.length).toBeLessThanOrEqual(15)
    expect(new Set(plans.map((p) => p.netns)).size).toBe(maxNodes)
    expect(new Set(plans.map((p) => p.cgroup)).size).toBe(maxNodes)
  })

  it.each([-1, maxNodes, 1.5])("rejects index %d", (i) => {
    expect(() => planNode(i, "x")).toThrow(/node index must be an integer/)
  })
})

describe("node configuration files", () => {
  const plan = planNode(3, "real-node-0")
  const dirs = nodeDirs("/dev/shm/langop-testnode/langop-node-3", "/cache/node/cni")

  it("containerd keeps every path below the node's dir and restricts oom_score_adj", () => {
    const toml = containerdConfigToml(dirs, {
      runc: "/cache/node/bin/runc",
      sandboxImage: "docker.io/langop/pause:dev",
    })
    expect(toml).toMatch(/^version = 4$/m)
    expect(toml).toMatch(/^imports = \[\]$/m)
    expect(toml).toMatch(new RegExp(`^\\s*address = "${dirs.containerdSocket}"$`, "m"))
    expect(toml).toMatch(/^\s*restrict_oom_score_adj = true$/m)
    expect(toml).toMatch(/^\s*netns_mounts_under_state_dir = true$/m)
    expect(toml).toMatch(/^\s*SystemdCgroup = false$/m)
    expect(toml).toMatch(/^\s*sandbox = "docker.io\/langop\/pause:dev"$/m)
    expect(toml).toMatch(/^\s*BinaryName = "\/cache\/node\/bin\/runc"$/m)
    expect(toml).toMatch(/^\s*stream_server_address = "127.0.0.1"$/m)
    const paths = [...toml.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1] ?? "")
    expect(paths.length).toBeGreaterThan(5)
    for (const p of paths) expect(p.startsWith(dirs.root) || p.startsWith("/cache/node/")).toBe(true)
  })

  it("the CNI network bridges pods in the node's own range, without masquerading", () => {
    const conf = JSON.parse(cniConflist(plan, dirs))
    expect(conf.plugins.map((p: { type: string }) => p.type)).toEqual(["bridge", "portmap"])
    const [bridge] = conf.plugins
    expect(bridge.ipMasq).toBe(false)
    expect(bridge.ipam).toMatchObject({
      type: "host-local",
      ranges: [[{ subnet: "198.19.3.0/24", gateway: "198.19.3.1" }]],
      dataDir: dirs.cniDataDir,
    })
  })

  it("the kubelet runs on cgroup v1 with cgroupfs under the node's cgroup, cluster DNS only", () => {
    const cfg = parse(
      kubeletConfigYaml(plan, dirs, { caFile: "/ca.crt", tlsCert: "/k.crt", tlsKey: "/k.key" }),
    )
    expect(cfg).toMatchObject({
      kind: "KubeletConfiguration",
      failCgroupV1: false,
      cgroupDriver: "cgroupfs",
      cgroupRoot: "/langop-node-3",
      containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
      address: plan.nodeIp,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: "/ca.crt" },
      },
      authorization: { mode: "Webhook" },
      clusterDNS: [clusterDnsIp],
      resolvConf: "",
      protectKernelDefaults: false,
      imageGCHighThresholdPercent: 100,
      registerWithTaints: [{ key: "langop.io/real-node", value: "true", effect: "NoSchedule" }],
    })
  })

  it("kube-proxy uses iptables and leaves the machine-wide conntrack settings alone", () => {
    const cfg = parse(kubeProxyConfigYaml(plan, "/kp.kubeconfig"))
    expect(cfg).toMatchObject({
      mode: "iptables",
      hostnameOverride: "real-node-0",
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
      nodePortAddresses: [`${plan.nodeIp}/32`],
    })
  })

  it("covers the kernel tunables the kubelet would write, with the values it expects", () => {
    expect(Object.fromEntries(kubeletSysctls.map((s) => [s.path, s.value]))).toMatchObject({
      "kernel/panic": "10",
      "kernel/panic_on_oops": "1",
      "vm/overcommit_memory": "1",
    })
  })
})

describe("cluster DNS manifests", () => {
  const docs = parseAllDocuments(corednsManifests("docker.io/langop/coredns:dev")).map((d) => d.toJS())
  const byKind = (kind: string) => docs.find((d) => d.kind === kind)

  it("Service kube-dns in kube-system on a fixed address of the service range, UDP and TCP 53", () => {
    const svc = byKind("Service")
    expect(svc.metadata).toMatchObject({
      name: "kube-dns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
    })
    expect(inCidr(svc.spec.clusterIP, serviceCidr)).toBe(true)
    expect(svc.spec.ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`)).toEqual([
      "53/UDP",
      "53/TCP",
      "9153/TCP",
    ])
  })

  it("the Deployment runs only on the real node, tolerating its taint, as non-root with a read-only root", () => {
    const spec = byKind("Deployment").spec.template.spec
    expect(spec.nodeSelector).toEqual({ "langop.io/real-node": "true" })
    expect(spec.tolerations).toEqual([
      { key: "langop.io/real-node", operator: "Exists", effect: "NoSchedule" },
    ])
    expect(spec.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    })
    expect(spec.containers[0].imagePullPolicy).toBe("Never")
  })

  it("the Corefile answers cluster names and forwards nothing off the machine", () => {
    expect(corefile).toContain("kubernetes cluster.local in-addr.arpa ip6.arpa")
    expect(corefile).not.toMatch(/\bforward\b/)
  })

  it("the kubernetes EndpointSlice names the node IP and the API server port", () => {
    expect(parse(apiserverEndpointSlice("198.18.0.2", 34567))).toMatchObject({
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { "kubernetes.io/service-name": "kubernetes" },
      },
      endpoints: [{ addresses: ["198.18.0.2"] }],
      ports: [{ name: "https", port: 34567 }],
    })
  })
})

describe("cgroupV1Hierarchies", () => {
  it("lists cgroup v1 mounts only (not the cgroup2 mount or the tmpfs above them)", () => {
    const mounts = [
      "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0",
      "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0",
      "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0",
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
      "",
    ].join("\n")
    expect(cgroupV1Hierarchies(mounts)).toEqual(["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/systemd"])
  })
})
