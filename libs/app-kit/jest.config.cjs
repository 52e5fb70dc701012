module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'app-kit',
};
