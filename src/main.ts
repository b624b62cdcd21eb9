/**
 * `npm start`: the operator's entry point. The controllers and the admission server are not wired in yet,
 * so this prints the CRDs the operator would install and exits non-zero, saying so.
 */
import { allKinds } from "./api/index.ts"
import { crdYaml } from "./crd/generate.ts"

for (const kind of allKinds) process.stdout.write(`---\n${crdYaml(kind)}`)
process.stderr.write(
  `langop: the operator's controllers are not wired into \`npm start\` yet; above are the ${allKinds.length} CRDs it would install (also in crds/).\n`,
)
process.exitCode = 1
