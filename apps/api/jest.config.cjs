// Unit tests of the API app (auth, error mapping, the OpenAPI document);
// the built binary runs in tools/integration (api.test.ts).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'api',
};
