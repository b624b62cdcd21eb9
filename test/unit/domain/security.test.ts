// Security contexts of generated Pods: restricted defaults for the fields a user leaves unset, the
// user's own values unchanged, and no default that contradicts a user's value.
import { describe, expect, it } from "vitest"
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from "../../../src/domain/security.ts"

describe("pod-level context", () => {
  it.each([
    [
      "nothing set: restricted",
      undefined,
      [],
      { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    ],
    [
      "the user's fields are added, defaults kept where unset",
      { runAsUser: 1000, fsGroup: 2000 },
      [],
      { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, runAsUser: 1000, fsGroup: 2000 },
    ],
    [
      "runAsNonRoot false and an Unconfined seccomp profile pass unchanged",
      { runAsNonRoot: false, seccompProfile: { type: "Unconfined" } },
      [],
      { runAsNonRoot: false, seccompProfile: { type: "Unconfined" } },
    ],
    [
      "runAsUser 0: runAsNonRoot is not defaulted (the kubelet would refuse to start uid 0)",
      { runAsUser: 0 },
      [],
      { seccompProfile: { type: "RuntimeDefault" }, runAsUser: 0 },
    ],
    [
      "a container's runAsUser 0 also keeps runAsNonRoot from being defaulted",
      undefined,
      [{ runAsUser: 0 }],
      { seccompProfile: { type: "RuntimeDefault" } },
    ],
    [
      "runAsUser 0 with an explicit runAsNonRoot keeps the user's value",
      { runAsUser: 0, runAsNonRoot: true },
      [],
      { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, runAsUser: 0 },
    ],
  ] as const)("%s", (_, user, containers, expected) => {
    expect(restrictedPodSecurityContext(user, containers)).toEqual(expected)
  })
})

describe("container-level context", () => {
  it.each([
    [
      "nothing set: restricted",
      undefined,
      { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    ],
    [
      "added capabilities are kept beside the default drop",
      { capabilities: { add: ["NET_ADMIN"] } },
      { allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
    ],
    [
      "an explicit drop list is the user's",
      { capabilities: { drop: ["NET_RAW"] } },
      { allowPrivilegeEscalation: false, capabilities: { drop: ["NET_RAW"] } },
    ],
    [
      "privileged: allowPrivilegeEscalation is not defaulted to false (the API server rejects that pair)",
      { privileged: true },
      { privileged: true, capabilities: { drop: ["ALL"] } },
    ],
    [
      "CAP_SYS_ADMIN added: likewise",
      { capabilities: { add: ["SYS_ADMIN"] } },
      { capabilities: { add: ["SYS_ADMIN"], drop: ["ALL"] } },
    ],
    [
      "allowPrivilegeEscalation true and runAsUser 0 pass unchanged",
      { allowPrivilegeEscalation: true, runAsUser: 0, readOnlyRootFilesystem: true },
      {
        allowPrivilegeEscalation: true,
        runAsUser: 0,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
    ],
  ] as const)("%s", (_, user, expected) => {
    expect(restrictedContainerSecurityContext(user)).toEqual(expected)
  })
})
