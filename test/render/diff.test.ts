import { describe, expect, it } from 'vitest';
import { diffLines } from '../../src/render/diff.js';

const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${i + from}`);

describe('diffLines', () => {
  it('is empty for equal texts', () => {
    expect(diffLines('a\nb\n', 'a\nb\n')).toEqual({ text: '', added: 0, removed: 0 });
  });

  it('shows a changed line with three lines of context', () => {
    const before = `${lines(10).join('\n')}\n`;
    const after = before.replace('line 5\n', 'line five\n');
    expect(diffLines(before, after, { fromLabel: 'a/f', toLabel: 'b/f' })).toEqual({
      text: [
        '--- a/f',
        '+++ b/f',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
      added: 1,
      removed: 1,
    });
  });

  it('splits distant changes into separate hunks and counts additions', () => {
    const before = `${lines(30).join('\n')}\n`;
    const after = before.replace('line 2\n', 'line 2\nextra\n').replace('line 25\n', '');
    const diff = diffLines(before, after);
    expect(diff.text.split('\n').filter((l) => l.startsWith('@@'))).toEqual([
      '@@ -1,5 +1,6 @@',
      '@@ -22,7 +23,6 @@',
    ]);
    expect([diff.added, diff.removed]).toEqual([1, 1]);
  });

  it('diffs from nothing', () => {
    const diff = diffLines('', 'a\nb\n', { fromLabel: '/dev/null' });
    expect(diff.text).toBe('--- /dev/null\n+++ after\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });
});
