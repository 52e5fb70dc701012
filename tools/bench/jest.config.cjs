// Unit tests of the pure parts (statistics, targets, report, arguments). The
// bench itself is not a jest test: `npm run bench` (CI: `npm run bench -- --smoke`).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'bench',
};
