/**
 * A local DNS server (127.0.0.1, random port; NXDOMAIN for names without records) for the operators the
 * tests start through src/operator/run.ts or as `npm start` processes: pass `server` as LANGOP_DNS_SERVERS,
 * so egress name resolution never asks the system resolver and no test touches the internet.
 */
import { Effect, Exit, Scope } from "effect"
import { type DnsRecord, dnsTestServer } from "../../unit/network/support/dns-server.ts"

export interface LocalDns {
  /** `127.0.0.1:<port>`. */
  readonly server: string
  readonly close: () => Promise<void>
}

export const startLocalDns = async (records: Readonly<Record<string, DnsRecord>> = {}): Promise<LocalDns> => {
  const scope = Effect.runSync(Scope.make())
  const dns = await Effect.runPromise(Scope.provide(scope)(dnsTestServer(records)))
  return { server: dns.server, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
