import { readFileSync } from 'node:fs'

const roots = [
  new URL('../node_modules/', import.meta.url),
  new URL('../../node_modules/', import.meta.url),
]

/** The installed version of a package (aliases included), read from its package.json on disk. */
export function packageVersion(name: string): string {
  for (const root of roots) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(`${name}/package.json`, root), 'utf8'))
      return (manifest as { version: string }).version
    } catch {}
  }
  return '?'
}
