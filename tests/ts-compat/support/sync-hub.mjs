// The in-process broadcasting sync backend of the package's own tests, js-bindings/test/support/
// sync-hub.mjs, which run.sh copies into .package-tests/ so that it resolves @livestore/common from
// this project (0.4.0-dev.23), not from the root workspace (0.4.0).
export { makeSyncHub } from '../.package-tests/support/sync-hub.mjs'
