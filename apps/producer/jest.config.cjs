// Unit tests of the producer's own parts (count parsing, batching, progress,
// completion tracking); the built binary runs in tools/integration.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'producer',
};
