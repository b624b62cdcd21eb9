// Prometheus metrics of the two HTTP paths of the operator, named and labelled as the Go operators
// name theirs so existing dashboards work: the client side as client-go's rest client metrics
// (`rest_client_requests_total{code,method,host}`, `rest_client_request_duration_seconds{verb,host}`),
// the admission server as controller-runtime's webhook metrics (`webhook` = the handler's path).
import { Counter, Gauge, Histogram, type Registry } from "prom-client"
import type { AdmissionObserverShape, ApiCallObserverShape } from "../observability/hooks.ts"

/** client-go's request latency buckets. */
const restBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]
/** controller-runtime's webhook latency buckets: 10 ns × 10^i, i = 0…11 (as its workqueue's). */
const webhookBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i)

export interface HttpMetrics {
  readonly apiCalls: ApiCallObserverShape
  readonly admission: AdmissionObserverShape
}

export const makeHttpMetrics = (registry: Registry): HttpMetrics => {
  const registers = [registry]
  const restRequests = new Counter({
    name: "rest_client_requests_total",
    help: "Number of HTTP requests, partitioned by status code, method, and host.",
    labelNames: ["code", "method", "host"],
    registers,
  })
  const restLatency = new Histogram({
    name: "rest_client_request_duration_seconds",
    help: "Request latency in seconds. Broken down by verb, and host.",
    labelNames: ["verb", "host"],
    buckets: restBuckets,
    registers,
  })
  const webhookTotal = new Counter({
    name: "controller_runtime_webhook_requests_total",
    help: "Total number of admission requests by HTTP status code.",
    labelNames: ["webhook", "code"],
    registers,
  })
  const webhookLatency = new Histogram({
    name: "controller_runtime_webhook_latency_seconds",
    help: "Histogram of the latency of processing admission requests",
    labelNames: ["webhook"],
    buckets: webhookBuckets,
    registers,
  })
  const webhookInFlight = new Gauge({
    name: "controller_runtime_webhook_requests_in_flight",
    help: "Current number of admission requests being served.",
    labelNames: ["webhook"],
    registers,
  })
  return {
    apiCalls: {
      record: ({ method, host, code, seconds }) => {
        restRequests.inc({ code, method, host })
        restLatency.observe({ verb: method, host }, seconds)
      },
    },
    admission: {
      // As controller-runtime's instrumented hook: the gauge and the likeliest codes exist at zero.
      registered: (webhook) => {
        webhookInFlight.set({ webhook }, 0)
        for (const code of ["200", "500"]) webhookTotal.inc({ webhook, code }, 0)
      },
      started: (webhook) => {
        const started = performance.now()
        webhookInFlight.inc({ webhook })
        return (code) => {
          webhookInFlight.dec({ webhook })
          webhookTotal.inc({ webhook, code: String(code) })
          webhookLatency.observe({ webhook }, (performance.now() - started) / 1000)
        }
      },
    },
  }
}
