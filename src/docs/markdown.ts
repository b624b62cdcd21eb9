/**
 * What the documentation tests need to know about Markdown: GitHub's heading anchors and the relative
 * links of a page, so a link or a citation into `docs/` that points nowhere fails a test.
 */

/** GitHub's anchor for a heading text: lower case, punctuation dropped, spaces to hyphens. */
export const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replaceAll(/[^\p{L}\p{N}\s_-]/gu, "")
    .replaceAll(/\s/g, "-")

/** The heading texts of a Markdown page (ATX headings outside fenced code). */
export const headingsOf = (markdown: string): string[] => {
  const headings: string[] = []
  let fenced = false
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    else if (!fenced) {
      const match = /^#{1,6}\s+(.*)$/.exec(line)
      if (match?.[1] !== undefined) headings.push(match[1])
    }
  }
  return headings
}

/** The page with fenced code blocks and inline code spans blanked out (they hold no links). */
const withoutCode = (markdown: string): string =>
  markdown.replaceAll(/^```[\s\S]*?^```/gm, "").replaceAll(/`[^`\n]*`/g, "")

/** Relative link targets (`path`, `path#anchor`, `#anchor`) of a Markdown page; external URLs are left out. */
export const relativeLinksOf = (markdown: string): string[] =>
  [...withoutCode(markdown).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? "")
    .filter((target) => target !== "" && !/^[a-z]+:/.test(target))
