// Unit tests of the API app (auth, the event stream's ids and its writer);
// the built binary runs in tools/integration (api.test.ts).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'api',
};
