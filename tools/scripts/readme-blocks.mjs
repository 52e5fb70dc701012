// The ```ts blocks of the READMEs, as check-packages.mjs compiles and runs them.
//
// A block may be preceded (blank lines allowed in between) by an HTML comment
// that GitHub does not show:
//
//   <!-- docs-check prelude: declare function sendEmail(to: string): Promise<void>; -->
//
// Its text after `prelude:` is put in front of the block, for names the block
// uses but does not define. Any other `docs-check` comment is an error, so a
// typo cannot silently drop a prelude.
import { readFileSync } from 'node:fs';

// a fence may be indented (a block inside a list item): its indentation is taken off the code
const OPEN = /^( *)```(ts|typescript)\s*$/;
const CLOSE = /^ *```\s*$/;
const PRELUDE = /^<!--\s*docs-check\s+prelude:([\s\S]*?)-->$/;

/**
 * @typedef {object} Block
 * @property {string} readme     path of the README, relative to the repository root
 * @property {number} line       1-based line of the block's first code line in the README
 * @property {string} code       the block's text
 * @property {string} prelude    the prelude's text ('' when there is none)
 * @property {number} preludeLine 1-based README line of the prelude comment (0 when none)
 * @property {string} section    the last `##` heading above the block
 */

/** Every ```ts block of the file at `absPath` (shown as `readme`). */
export function readmeBlocks(absPath, readme) {
  const lines = readFileSync(absPath, 'utf8').split('\n');
  const blocks = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^## /.test(lines[i])) section = lines[i].slice(3).trim();
    const open = OPEN.exec(lines[i]);
    if (!open) {
      if (/^ *```/.test(lines[i])) i = skipFence(lines, i); // ```bash, ```text: never read as headings
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && CLOSE.test(l));
    if (end < 0) throw new Error(`${readme}:${i + 1}: a \`\`\`ts block is never closed`);
    const indent = open[1].length;
    const code = lines.slice(i + 1, end).map((l) => (l.slice(0, indent).trim() === '' ? l.slice(indent) : l));
    blocks.push({ readme, line: i + 2, code: code.join('\n'), section, ...preludeBefore(lines, i, readme) });
    i = end;
  }
  return blocks;
}

function skipFence(lines, i) {
  const end = lines.findIndex((l, j) => j > i && CLOSE.test(l));
  return end < 0 ? lines.length : end;
}

/** The docs-check prelude comment right above line index `fence`, if any. */
function preludeBefore(lines, fence, readme) {
  let j = fence - 1;
  while (j >= 0 && lines[j].trim() === '') j--;
  if (j < 0 || !lines[j].trim().endsWith('-->')) return { prelude: '', preludeLine: 0 };
  let start = j;
  while (start >= 0 && !lines[start].includes('<!--')) start--;
  if (start < 0) return { prelude: '', preludeLine: 0 };
  const comment = lines.slice(start, j + 1).join('\n').trim();
  if (!/docs-check/.test(comment)) return { prelude: '', preludeLine: 0 };
  const m = PRELUDE.exec(comment);
  if (!m) throw new Error(`${readme}:${start + 1}: unknown docs-check comment (expected <!-- docs-check prelude: … -->)`);
  return { prelude: m[1].trim(), preludeLine: start + 1 };
}

/** The file a block is compiled as: its prelude, then the block. */
export function sourceOf(block) {
  return block.prelude ? `${block.prelude}\n${block.code}\n` : `${block.code}\n`;
}

/** The README line of line `fileLine` (1-based) of the block's file. */
export function readmeLineOf(block, fileLine) {
  const preludeLines = block.prelude ? block.prelude.split('\n').length : 0;
  if (fileLine <= preludeLines) return block.preludeLine + fileLine - 1;
  return block.line + fileLine - preludeLines - 1;
}

/** A file name for the block: `README.md` line 226 → `readme-l226.ts`; `libs/queue/README.md` → `libs-queue-readme-l98.ts`. */
export function fileNameOf(block) {
  const base = block.readme.replace(/\.md$/i, '').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
  return `${base}-l${block.line}.ts`;
}
