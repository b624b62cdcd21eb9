// Keys that the real-node global setup (setup.ts) hands to tests, besides the integration ones.
export {}

declare module "vitest" {
  export interface ProvidedContext {
    /** Name of the real node's Node object. */
    realNodeName: string
    /** Its network namespace on the host (`ip netns exec <it> …`). */
    realNodeNetns: string
    /** Host end of its veth link (only the node can reach it, and must not open connections to it). */
    realNodeHostIp: string
    /** The machine's kernel settings the kubelet would write, as read before the node started. */
    hostKernelSettingsBefore: Record<string, string>
  }
}
