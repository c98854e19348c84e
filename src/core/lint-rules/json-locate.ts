/**
 * Line and column of every member and element of a JSON text, so findings on a policy file can
 * point at the exact line (SARIF regions, human output). A small position-tracking JSON reader;
 * it gives up (returns what it has) on invalid JSON rather than throwing.
 */

export type JsonPath = (string | number)[];

export interface JsonPosition {
  path: JsonPath;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  /** The value when it is a string, number or boolean. */
  value?: string | number | boolean | null;
}

export function indexJsonPositions(text: string): JsonPosition[] {
  const out: JsonPosition[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const where = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
  };
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: JsonPath, at: number): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      while (i < text.length) {
        ws();
        const keyAt = i;
        const key = str();
        ws();
        if (text[i] !== ':') throw new Error('expected :');
        i++;
        const child = [...path, key];
        out.push({ path: child, ...where(keyAt) });
        value(child, keyAt);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw new Error('expected , or }');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      let n = 0;
      while (i < text.length) {
        ws();
        const child = [...path, n++];
        const elemAt = i;
        out.push({ path: child, ...where(elemAt) });
        value(child, elemAt);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw new Error('expected , or ]');
      }
    } else {
      const start = i;
      let v: string | number | boolean | null;
      if (c === '"') v = str();
      else {
        while (i < text.length && /[^\s,\]}]/.test(text[i] as string)) i++;
        v = JSON.parse(text.slice(start, i)) as number | boolean | null;
      }
      const last = out[out.length - 1];
      // Attach the scalar to the entry recorded for this path (member key or array element).
      if (last && samePath(last.path, path)) last.value = v;
      else if (path.length === 0) out.push({ path, ...where(at), value: v });
    }
  };
  try {
    value([], 0);
  } catch {
    // Invalid JSON: keep the positions found so far.
  }
  return out;
}

export function samePath(a: JsonPath, b: JsonPath): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/** Position of a path, matching object keys case-insensitively when no exact match exists. */
export function findJsonPosition(index: JsonPosition[], path: JsonPath): JsonPosition | undefined {
  return (
    index.find((p) => samePath(p.path, path)) ??
    index.find(
      (p) =>
        p.path.length === path.length &&
        p.path.every(
          (x, k) =>
            x === path[k] ||
            (typeof x === 'string' &&
              typeof path[k] === 'string' &&
              x.toLowerCase() === (path[k] as string).toLowerCase()),
        ),
    )
  );
}
