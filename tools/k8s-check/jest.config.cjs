// Validates docker/k8s/*.yaml (schemas and cross-document invariants), then
// runs each Deployment's container command as written (the built apps,
// apps/*/dist, built first by the `test` target's ^build dependency) against a
// throwaway redis-server and probes the paths the manifests name.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'k8s-check',
  // the run part starts processes; every wait in it has its own, shorter bound
  testTimeout: 60_000,
};
