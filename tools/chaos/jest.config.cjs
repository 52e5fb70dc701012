// Unit tests of the pure parts (plan, log parsing, checks, summary). The chaos
// run itself is not a jest test: `npm run chaos`.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'chaos',
};
