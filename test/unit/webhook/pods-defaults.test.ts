import { describe, expect, it } from "vitest"
import {
  canonicalQuantity,
  mergeContainer,
  sameContainer,
  sameVolume,
} from "../../../src/webhook/pods-defaults.ts"

describe("canonicalQuantity", () => {
  it.each([
    ["0.5", "1/2"],
    ["500m", "1/2"],
    [0.5, "1/2"],
    ["5e-1", "1/2"],
    ["1", "1/1"],
    [1, "1/1"],
    ["1000m", "1/1"],
    ["1k", "1000/1"],
    ["1Ki", "1024/1"],
    ["128Mi", `${128 * 1024 * 1024}/1`],
    ["134217728", `${128 * 1024 * 1024}/1`],
    ["1E", "1000000000000000000/1"],
    ["1E3", "1000/1"],
    ["0", "0/1"],
    ["0m", "0/1"],
    ["-1m", "-1/1000"],
    ["100n", "1/10000000"],
  ])("%j → %s", (value, expected) => {
    expect(canonicalQuantity(value)).toBe(expected)
  })

  it("leaves what is not a quantity alone", () => {
    expect(canonicalQuantity("lots")).toBe("lots")
    expect(canonicalQuantity(null)).toBe(null)
  })
})

describe("sameContainer / sameVolume", () => {
  const built = {
    name: "tool-x",
    image: "i",
    ports: [{ name: "mcp", containerPort: 80, protocol: "TCP" }],
    env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    resources: { limits: { cpu: "0.5", memory: "1Gi" } },
    readinessProbe: { httpGet: { port: 80 } },
  }
  const defaulted = {
    ...built,
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    env: [{ name: "N", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } }],
    resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } },
    readinessProbe: {
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
  }

  it("a container equals its API-server-defaulted form", () => {
    expect(sameContainer(defaulted, built)).toBe(true)
  })

  it.each([
    ["another image", { image: "j" }],
    ["a command", { command: ["sh"] }],
    ["another request", { resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "100m" } } }],
    ["a non-default probe period", { readinessProbe: { ...defaulted.readinessProbe, periodSeconds: 5 } }],
  ])("but not with %s", (_, change) => {
    expect(sameContainer({ ...defaulted, ...change }, built)).toBe(false)
  })

  it("volumes: default modes are ignored, other differences are not", () => {
    expect(
      sameVolume(
        { name: "s", secret: { secretName: "a", defaultMode: 420 } },
        { name: "s", secret: { secretName: "a" } },
      ),
    ).toBe(true)
    expect(
      sameVolume(
        { name: "s", secret: { secretName: "a", defaultMode: 256 } },
        { name: "s", secret: { secretName: "a" } },
      ),
    ).toBe(false)
    expect(
      sameVolume({ name: "h", hostPath: { path: "/x", type: "" } }, { name: "h", hostPath: { path: "/x" } }),
    ).toBe(true)
    expect(
      sameVolume(
        { name: "e", emptyDir: { sizeLimit: "1024Mi" } },
        { name: "e", emptyDir: { sizeLimit: "1Gi" } },
      ),
    ).toBe(true)
    expect(sameVolume({ name: "e", emptyDir: {} }, { name: "f", emptyDir: {} })).toBe(false)
  })
})

describe("mergeContainer", () => {
  const ours = {
    name: "tool-x",
    image: "i:2",
    env: [{ name: "PORT", value: "80" }],
    resources: { limits: { cpu: "0.5" } },
    volumeMounts: [{ name: "workspace", mountPath: "/w" }],
  }
  const token = {
    name: "kube-api-access-1",
    readOnly: true,
    mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
  }

  it("keeps the existing entry when only defaults and other plugins' additions differ", () => {
    const existing = {
      ...ours,
      terminationMessagePath: "/dev/termination-log",
      resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "500m", memory: "512Mi" } },
      volumeMounts: [...ours.volumeMounts, token],
      env: [...ours.env, { name: "INJECTED", value: "by another webhook" }],
    }
    expect(mergeContainer(existing, ours)).toBe(existing)
  })

  it("our fields win, other plugins' additions stay", () => {
    const existing = {
      ...ours,
      image: "i:1",
      command: ["other"],
      env: [
        { name: "PORT", value: "81" },
        { name: "INJECTED", value: "x" },
      ],
      resources: { limits: { cpu: "1", memory: "1Gi" } },
      volumeMounts: [{ name: "old", mountPath: "/w" }, token],
    }
    expect(mergeContainer(existing, ours)).toEqual({
      ...ours,
      command: ["other"],
      env: [
        { name: "PORT", value: "80" },
        { name: "INJECTED", value: "x" },
      ],
      resources: { limits: { cpu: "0.5", memory: "1Gi" } },
      volumeMounts: [{ name: "workspace", mountPath: "/w" }, token],
    })
  })

  it("anything that is not a container is replaced by ours", () => {
    expect(mergeContainer("x", ours)).toBe(ours)
  })
})
