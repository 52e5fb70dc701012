'use strict';

/** `--args` text that cannot be split: an unterminated quote or a trailing backslash. */
class ArgsSyntaxError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ArgsSyntaxError';
  }
}

// Inside double quotes a backslash escapes only these (POSIX sh); before any other character it stays.
const ESCAPABLE_IN_DOUBLE_QUOTES = new Set(['"', '\\', '$', '`', '\n']);

/**
 * Splits `--args` text into argv elements the way a POSIX shell splits words:
 * blanks separate them, single quotes keep everything literally, double quotes
 * keep blanks, a backslash escapes the next character. Nothing is expanded
 * (no variables, globs or `~`): the text is the app's arguments, not a command.
 *
 * @param {string} text
 * @returns {string[]}
 */
function splitArgs(text) {
  /** @type {string[]} */
  const words = [];
  let word = '';
  let inWord = false; // '' is a word of its own
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ArgsSyntaxError(`unterminated single quote in ${JSON.stringify(text)}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && ESCAPABLE_IN_DOUBLE_QUOTES.has(text[j + 1])) {
          j++;
          if (text[j] !== '\n') word += text[j];
        } else {
          word += text[j];
        }
      }
      if (j >= text.length) throw new ArgsSyntaxError(`unterminated double quote in ${JSON.stringify(text)}`);
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ArgsSyntaxError(`trailing backslash in ${JSON.stringify(text)}`);
      i++;
      // backslash-newline continues the line
      if (text[i] !== '\n') {
        word += text[i];
        inWord = true;
      }
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

module.exports = { splitArgs, ArgsSyntaxError };
