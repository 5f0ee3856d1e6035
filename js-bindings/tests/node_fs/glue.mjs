// Node glue of tests/node_fs.rs: compiles the package's TypeScript file system modules with the
// repository's TypeScript (strict, the package's compiler options), imports `nodeFileSystem`, and
// makes temporary root directories and the odd file system objects of the bad-input tests.
//
// wasm-bindgen-test-runner loads the test in Node as CommonJS and this snippet with require(),
// which Node 20.19+ allows for ES modules (hence `.mjs`).
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

/** The package's own compiler options (js-bindings' tsconfig), as the TypeScript API takes them. */
const compilerOptions = (ts, outDir, rootDir, typeRoots) => ({
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  types: ['node'],
  typeRoots,
  rootDir,
  outDir,
  declaration: true,
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: true,
  isolatedModules: true,
})

let loading
let typeErrorsText = ''

/** Compiles and imports ts/node-fs.ts (once); `packageDir` is js-bindings/. */
export function load(packageDir) {
  loading ??= compileAndImport(packageDir)
  return loading
}

async function compileAndImport(packageDir) {
  const require = createRequire(path.join(packageDir, 'package.json'))
  let ts
  try {
    ts = require('typescript')
  } catch (error) {
    throw new Error(`TypeScript is not installed; run \`npm ci\` at the repository root (${error.message})`)
  }
  const typesNode = path.dirname(require.resolve('@types/node/package.json'))
  const outDir = fs.mkdtempSync(path.join(tmpdir(), 'filesync-js-ts-'))
  process.on('exit', () => fs.rmSync(outDir, { recursive: true, force: true }))
  const rootDir = path.join(packageDir, 'ts')
  const files = ['file-system.ts', 'node-fs.ts'].map((name) => path.join(rootDir, name))
  const program = ts.createProgram(files, compilerOptions(ts, outDir, rootDir, [path.dirname(typesNode)]))
  const emitted = program.emit()
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
  typeErrorsText = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => packageDir,
    getNewLine: () => '\n',
  })
  // The emitted `.js` files are ES modules (the package is `"type": "module"`).
  fs.writeFileSync(path.join(outDir, 'package.json'), '{"type": "module"}\n')
  return import(pathToFileURL(path.join(outDir, 'node-fs.js')).href)
}

/** The compiler's complaints about the two modules ('' when there are none). */
export function typeErrors() {
  return typeErrorsText
}

/** A fresh, empty directory for one file system. */
export function makeRoot() {
  return fs.mkdtempSync(path.join(tmpdir(), 'filesync-js-fs-'))
}

/** Removes a root directory and everything in it. */
export function removeRoot(dir) {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** Every entry below `dir` on disk (relative paths, sorted), the hidden staging directory too. */
export function diskEntries(dir) {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort()
}

const REQUIRED = ['stat', 'readDir', 'makeDir', 'remove', 'rename', 'readFile', 'writeFile', 'openWriter']

/**
 * `nodeFileSystem(root)` as it is (`full`), or reduced to the required methods plus handles
 * (`limited`: no `truncate`, `copyFile`, links, permissions, times), which makes the engine use its
 * fallbacks and answer `Unsupported` for the rest.
 */
export async function nodeFs(packageDir, root, variant) {
  const { nodeFileSystem } = await load(packageDir)
  const full = nodeFileSystem(root)
  if (variant === 'full') return full
  const limited = { capabilities: { fileHandles: true } }
  for (const name of [...REQUIRED, 'open']) limited[name] = full[name].bind(full)
  return limited
}

/**
 * An object for the bad-input tests: `nodeFileSystem(root)`'s methods, each replaced by one that
 * fails in an odd way when `failures[name]` says so:
 * `throw:<json>` throws the value synchronously, `reject:<json>` rejects with it, `answer:<json>`
 * resolves to it, `error:<code>` throws an `Error` with that code.
 */
export async function oddFs(packageDir, root, failures) {
  const { nodeFileSystem } = await load(packageDir)
  const full = nodeFileSystem(root)
  const odd = { capabilities: full.capabilities }
  for (const name of [...REQUIRED, 'open', 'truncate', 'copyFile', 'symlink', 'readLink', 'realPath', 'link', 'chmod', 'chown', 'utimes']) {
    const how = failures[name]
    if (how === undefined) {
      odd[name] = full[name].bind(full)
      continue
    }
    const [what, ...rest] = how.split(':')
    const arg = rest.join(':')
    odd[name] = {
      throw: () => {
        throw JSON.parse(arg)
      },
      reject: async () => {
        throw JSON.parse(arg)
      },
      answer: async () => JSON.parse(arg),
      error: () => {
        throw Object.assign(new Error(`${arg}: failed on purpose`), { code: arg })
      },
      dom: () => {
        throw new DOMException('failed on purpose', arg)
      },
    }[what]
  }
  return odd
}
