// Unit tests of the ops CLI's own parts (tables, JSON argument errors, event
// lines, argument rules); the built binary runs in tools/integration (cli.test.ts).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'cli',
};
