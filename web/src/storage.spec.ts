import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  isBoolean,
  isNumber,
  isString,
  isStringArray,
  readJson,
  removeKey,
  writeJson,
  type KeyValueStore,
} from './storage.js';

class MemoryStorage implements KeyValueStore {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const globals = globalThis as unknown as Record<string, unknown>;

/** Puts a `window` with the given localStorage (or a throwing getter) in place. */
function installWindow(localStorage: KeyValueStore | (() => never)): void {
  const win = {};
  Object.defineProperty(win, 'localStorage', {
    get: typeof localStorage === 'function' ? localStorage : () => localStorage,
  });
  globals.window = win;
}

afterEach(() => {
  delete globals.window;
});

describe('with localStorage', () => {
  let storage: MemoryStorage;

  beforeEach(() => {
    storage = new MemoryStorage();
    installWindow(storage);
  });

  it('writes JSON and reads it back', () => {
    writeJson('cka.visited.s1', ['q1', 'q3']);
    expect(storage.items.get('cka.visited.s1')).toBe('["q1","q3"]');
    expect(readJson('cka.visited.s1', isStringArray)).toEqual(['q1', 'q3']);
  });

  it('reads null for a missing key', () => {
    expect(readJson('cka.zoom', isNumber)).toBeNull();
  });

  it('reads null for a value that is not JSON or not of the expected shape', () => {
    storage.setItem('cka.zoom', '{not json');
    expect(readJson('cka.zoom', isNumber)).toBeNull();
    storage.setItem('cka.zoom', '"large"');
    expect(readJson('cka.zoom', isNumber)).toBeNull();
    storage.setItem('cka.visited.s1', '["q1", 2]');
    expect(readJson('cka.visited.s1', isStringArray)).toBeNull();
  });

  it('reads a stored null as null, not as a value', () => {
    storage.setItem('cka.theme', 'null');
    expect(readJson('cka.theme', isString)).toBeNull();
  });

  it('removes a key', () => {
    writeJson('cka.current.s1', 3);
    removeKey('cka.current.s1');
    expect(storage.items.has('cka.current.s1')).toBe(false);
  });

  it('does not throw when the quota is full: the value just is not remembered', () => {
    storage.setItem = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    expect(() => writeJson('cka.unsaved.s1', { 'q:1': { answer: 'x' } })).not.toThrow();
  });
});

describe('without usable localStorage (privacy mode, sandboxed frame)', () => {
  it('reads nothing and writes nothing, without throwing', () => {
    installWindow(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    expect(readJson('cka.zoom', isNumber)).toBeNull();
    expect(() => writeJson('cka.zoom', 1.2)).not.toThrow();
    expect(() => removeKey('cka.zoom')).not.toThrow();
  });

  it('works with no window at all', () => {
    expect(readJson('cka.zoom', isNumber)).toBeNull();
    expect(() => writeJson('cka.zoom', 1.2)).not.toThrow();
    expect(() => removeKey('cka.zoom')).not.toThrow();
  });
});

describe('validators', () => {
  it('isNumber accepts finite numbers only', () => {
    expect([1, 0, -2.5].every(isNumber)).toBe(true);
    expect([Number.NaN, Infinity, '1', null].some(isNumber)).toBe(false);
  });

  it('isBoolean, isString and isStringArray accept their type only', () => {
    expect(isBoolean(false)).toBe(true);
    expect(isBoolean('false')).toBe(false);
    expect(isString('')).toBe(true);
    expect(isString(1)).toBe(false);
    expect(isStringArray([])).toBe(true);
    expect(isStringArray(['a'])).toBe(true);
    expect(isStringArray('a')).toBe(false);
    expect(isStringArray([null])).toBe(false);
  });
});
