/** Every page under `docs/` that is generated from the code: repository-relative path → content. */
import { referencePages } from "./reference.ts"

export const generatedPages = (): ReadonlyMap<string, string> => new Map([...referencePages()])
